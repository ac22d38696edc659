"""Type definitions as values: what typeparse builds from YAML and the registry resolves."""

from __future__ import annotations

from dataclasses import dataclass, field

from edgewise.tosca.problems import Mark
from edgewise.tosca.yamltree import Node

KINDS = {
    "data_types": "data",
    "node_types": "node",
    "capability_types": "capability",
    "relationship_types": "relationship",
    "policy_types": "policy",
    "interface_types": "interface",
    "artifact_types": "artifact",
    "group_types": "group",
}
KIND_PREFIX = {
    "data": "tosca.datatypes.",
    "node": "tosca.nodes.",
    "capability": "tosca.capabilities.",
    "relationship": "tosca.relationships.",
    "policy": "tosca.policies.",
    "interface": "tosca.interfaces.",
    "artifact": "tosca.artifacts.",
    "group": "tosca.groups.",
}


@dataclass(frozen=True, slots=True)
class Constraint:
    """One constraint clause, e.g. operator "in_range" with argument [0, 65535]."""

    operator: str
    argument: object
    mark: Mark


@dataclass(frozen=True, slots=True)
class Schema:
    """A property, attribute, input or entry schema definition."""

    type: str
    mark: Mark
    required: bool | None = None
    default: Node | None = None
    constraints: tuple[Constraint, ...] = ()
    entry: Schema | None = None

    @property
    def is_required(self) -> bool:
        return self.required is not False


@dataclass(frozen=True, slots=True)
class RequirementDef:
    """A requirement a node type declares."""

    name: str
    capability: str | None
    node: str | None
    relationship: str | None
    mark: Mark


@dataclass(frozen=True)
class TypeDef:
    """One type of any kind, as written (inherited members are merged by the registry)."""

    kind: str
    name: str
    parent: str | None
    mark: Mark
    properties: dict[str, Schema] = field(default_factory=dict)
    attributes: dict[str, Schema] = field(default_factory=dict)
    requirements: tuple[RequirementDef, ...] = ()
    capabilities: dict[str, str] = field(default_factory=dict)
    interfaces: dict[str, str] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    primitive: bool = False


@dataclass(frozen=True)
class ImportRef:
    """One entry of `imports:`: a file (relative to the importer) or a URL."""

    target: str
    mark: Mark


@dataclass(frozen=True)
class TemplateFile:
    """A parsed service template file: its imports, the types it defines, its topology."""

    file: str
    version: str | None
    imports: tuple[ImportRef, ...]
    types: dict[tuple[str, str], TypeDef]
    topology: Node | None
    metadata: dict[str, str]
