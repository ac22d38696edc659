"""Topology templates checked against the registry: node templates, requirements, policies.

Produces a Topology value (checked, still positioned) that the model builder reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgewise.tosca.deviations import DANGLING_SUBSTITUTION_MAPPING, TOLERATED_NOTE
from edgewise.tosca.problems import Mark, ProblemLog
from edgewise.tosca.registry import ResolvedType, TypeRegistry, kind_word
from edgewise.tosca.shapes import Shapes, join
from edgewise.tosca.typedefs import TemplateFile
from edgewise.tosca.typeparse import parse_schema
from edgewise.tosca.values import ValueChecker
from edgewise.tosca.yamltree import Node

_NODE_KEYS = {
    "type",
    "description",
    "metadata",
    "directives",
    "properties",
    "attributes",
    "requirements",
    "capabilities",
    "interfaces",
    "artifacts",
    "node_filter",
    "copy",
}


@dataclass(frozen=True)
class Requirement:
    """One requirement assignment: its name, the target node and the optional capability."""

    name: str
    target: str | None
    capability: str | None
    mark: Mark | None = field(default=None, compare=False)
    path: str = field(default="", compare=False)


@dataclass(frozen=True)
class NodeTemplate:
    name: str
    type: ResolvedType | None
    properties: dict[str, Node]
    requirements: tuple[Requirement, ...]
    capabilities: dict[str, dict[str, Node]]
    mark: Mark | None = field(default=None, compare=False)
    # the template as written (metadata, artifacts, interfaces: read by tosca.software)
    body: dict[str, Node] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PolicyTemplate:
    name: str
    type: ResolvedType | None
    properties: dict[str, Node]
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Topology:
    """The checked topology of one file."""

    file: str
    inputs: dict[str, Node]
    nodes: dict[str, NodeTemplate]
    policies: tuple[PolicyTemplate, ...]
    groups: dict[str, tuple[str, ...]]
    substituted_type: ResolvedType | None
    substituted_properties: dict[str, Node] = field(default_factory=dict)


def check_topology(template: TemplateFile, registry: TypeRegistry, log: ProblemLog) -> Topology:
    file = template.file
    shapes = Shapes(file, log)
    body = shapes.map(template.topology, "topology_template")
    inputs = shapes.map(body.get("inputs"), "topology_template.inputs")
    checker = ValueChecker(registry, file, log, frozenset(inputs))
    for name, definition in inputs.items():
        path = f"topology_template.inputs.{name}"
        schema = parse_schema(definition, path, shapes)
        if schema.type and registry.find("data", schema.type) is None:
            log.add(
                definition.mark(file),
                path,
                "type.unknown",
                f"input type '{schema.type}' is unknown",
            )
        elif schema.default is not None:
            checker.check(schema.default, schema, join(path, "default"))
    raw_nodes = shapes.map(body.get("node_templates"), "topology_template.node_templates")
    nodes = {
        name: _node(
            name, node=node, raw_nodes=raw_nodes, registry=registry, checker=checker, shapes=shapes
        )
        for name, node in raw_nodes.items()
    }
    groups = _groups(body.get("groups"), nodes, registry, checker, shapes)
    policies = _policies(
        body.get("policies"),
        nodes=nodes,
        groups=groups,
        registry=registry,
        checker=checker,
        shapes=shapes,
    )
    substituted, substituted_properties = _substitution(
        body.get("substitution_mappings"), nodes, registry, shapes
    )
    return Topology(file, inputs, nodes, policies, groups, substituted, substituted_properties)


def _typed(
    kind: str, node: Node, path: str, registry: TypeRegistry, shapes: Shapes
) -> ResolvedType | None:
    entries = shapes.map(node, path)
    if "type" not in entries:
        if isinstance(node.value, dict):
            shapes.log.add(
                node.mark(shapes.file), join(path, "type"), "template.type", "'type' is required"
            )
        return None
    name = shapes.name(entries["type"], join(path, "type"))
    if name is None:
        return None
    resolved = registry.resolve(kind, name)
    if resolved is None:
        shapes.log.add(
            entries["type"].mark(shapes.file),
            join(path, "type"),
            "type.unknown",
            f"{kind_word(kind)} '{name}' is not defined here, in an import, "
            "or among the standard TOSCA/ETSI/Edgewise types",
        )
    return resolved


def _node(
    name: str,
    *,
    node: Node,
    raw_nodes: dict[str, Node],
    registry: TypeRegistry,
    checker: ValueChecker,
    shapes: Shapes,
) -> NodeTemplate:
    path = f"topology_template.node_templates.{name}"
    node_type = _typed("node", node, path, registry, shapes)
    body = shapes.map(node, path)
    for key, child in body.items():
        if key not in _NODE_KEYS:
            shapes.log.add(
                child.mark(shapes.file),
                join(path, key),
                "template.unknown-key",
                f"'{key}' is not a node template key; expected one of "
                + ", ".join(sorted(_NODE_KEYS)),
            )
    properties = shapes.map(body.get("properties"), join(path, "properties"))
    capabilities: dict[str, dict[str, Node]] = {}
    requirements: list[Requirement] = []
    if node_type is not None:
        checker.properties(properties, node_type.properties, join(path, "properties"), node)
        capabilities = _capabilities(body.get("capabilities"), node_type, registry, checker, path)
        _artifacts(body.get("artifacts"), registry, checker, shapes, path)
    for req_name, req_node, req_path in shapes.named_entries(
        body.get("requirements"), join(path, "requirements")
    ):
        requirement = _requirement(
            req_name,
            node=req_node,
            path=req_path,
            node_type=node_type,
            raw_nodes=raw_nodes,
            registry=registry,
            shapes=shapes,
        )
        if requirement is not None:
            requirements.append(requirement)
    return NodeTemplate(
        name,
        node_type,
        properties,
        tuple(requirements),
        capabilities,
        node.mark(shapes.file),
        body,
    )


def _requirement(
    name: str,
    *,
    node: Node,
    path: str,
    node_type: ResolvedType | None,
    raw_nodes: dict[str, Node],
    registry: TypeRegistry,
    shapes: Shapes,
) -> Requirement | None:
    if node_type is not None and name not in node_type.requirements:
        known = ", ".join(sorted(node_type.requirements)) or "none"
        shapes.log.add(
            node.mark(shapes.file),
            path,
            "requirement.unknown",
            f"node type {node_type.name} has no requirement '{name}'; known: {known}",
        )
    target: str | None
    capability: str | None = None
    if isinstance(node.value, dict):
        entries = node.value
        target = shapes.name(entries.get("node"), join(path, "node"))
        capability = shapes.name(entries.get("capability"), join(path, "capability"))
    else:
        target = shapes.name(node, path)
    if target is not None and target not in raw_nodes and registry.find("node", target) is None:
        known = ", ".join(sorted(raw_nodes)) or "none"
        shapes.log.add(
            node.mark(shapes.file),
            path,
            "requirement.target",
            f"requirement '{name}' targets '{target}', which is neither a node template "
            f"of this topology nor a node type (node templates: {known})",
        )
        target = None
    return Requirement(name, target, capability, node.mark(shapes.file), path)


def _capabilities(
    node: Node | None,
    node_type: ResolvedType,
    registry: TypeRegistry,
    checker: ValueChecker,
    path: str,
) -> dict[str, dict[str, Node]]:
    shapes = Shapes(checker.file, checker.log)
    out: dict[str, dict[str, Node]] = {}
    for cap_name, cap_node in shapes.map(node, join(path, "capabilities")).items():
        cap_path = join(join(path, "capabilities"), cap_name)
        cap_type_name = node_type.capabilities.get(cap_name)
        if cap_type_name is None:
            known = ", ".join(sorted(node_type.capabilities)) or "none"
            checker.log.add(
                cap_node.mark(checker.file),
                cap_path,
                "capability.unknown",
                f"node type {node_type.name} has no capability '{cap_name}'; known: {known}",
            )
            continue
        body = shapes.map(cap_node, cap_path)
        properties = shapes.map(body.get("properties"), join(cap_path, "properties"))
        cap_type = registry.resolve("capability", cap_type_name)
        if cap_type is not None:
            checker.properties(
                properties, cap_type.properties, join(cap_path, "properties"), cap_node
            )
        out[cap_name] = properties
    return out


def _artifacts(
    node: Node | None, registry: TypeRegistry, checker: ValueChecker, shapes: Shapes, path: str
) -> None:
    for name, artifact in shapes.map(node, join(path, "artifacts")).items():
        art_path = join(join(path, "artifacts"), name)
        if isinstance(artifact.value, str):
            continue
        art_type = _typed("artifact", artifact, art_path, registry, shapes)
        body = shapes.map(artifact, art_path)
        if art_type is not None and "properties" in body:
            properties = shapes.map(body["properties"], join(art_path, "properties"))
            checker.properties(
                properties, art_type.properties, join(art_path, "properties"), artifact
            )


def _groups(
    node: Node | None,
    nodes: dict[str, NodeTemplate],
    registry: TypeRegistry,
    checker: ValueChecker,
    shapes: Shapes,
) -> dict[str, tuple[str, ...]]:
    groups: dict[str, tuple[str, ...]] = {}
    for name, group, path in shapes.named_entries(node, "topology_template.groups"):
        group_type = _typed("group", group, path, registry, shapes)
        body = shapes.map(group, path)
        if group_type is not None:
            properties = shapes.map(body.get("properties"), join(path, "properties"))
            checker.properties(properties, group_type.properties, join(path, "properties"), group)
        members = _names(body.get("members"), join(path, "members"), set(nodes), shapes)
        groups[name] = members
    return groups


def _policies(
    node: Node | None,
    *,
    nodes: dict[str, NodeTemplate],
    groups: dict[str, tuple[str, ...]],
    registry: TypeRegistry,
    checker: ValueChecker,
    shapes: Shapes,
) -> tuple[PolicyTemplate, ...]:
    policies: list[PolicyTemplate] = []
    for name, policy, path in shapes.named_entries(node, "topology_template.policies"):
        policy_type = _typed("policy", policy, path, registry, shapes)
        body = shapes.map(policy, path)
        properties = shapes.map(body.get("properties"), join(path, "properties"))
        if policy_type is not None:
            checker.properties(properties, policy_type.properties, join(path, "properties"), policy)
        targets = _names(
            body.get("targets"), join(path, "targets"), set(nodes) | set(groups), shapes
        )
        policies.append(PolicyTemplate(name, policy_type, properties, targets))
    return tuple(policies)


def _names(node: Node | None, path: str, known: set[str], shapes: Shapes) -> tuple[str, ...]:
    names: list[str] = []
    for index, item in enumerate(shapes.seq(node, path)):
        name = shapes.name(item, f"{path}[{index}]")
        if name is None:
            continue
        if name not in known:
            shapes.log.add(
                item.mark(shapes.file),
                f"{path}[{index}]",
                "target.unknown",
                f"'{name}' is not a node template or group of this topology "
                f"(known: {', '.join(sorted(known)) or 'none'})",
            )
            continue
        names.append(name)
    return tuple(names)


def _substitution(
    node: Node | None, nodes: dict[str, NodeTemplate], registry: TypeRegistry, shapes: Shapes
) -> tuple[ResolvedType | None, dict[str, Node]]:
    path = "topology_template.substitution_mappings"
    if node is None:
        return None, {}
    body = shapes.map(node, path)
    type_name = shapes.name(body.get("node_type"), join(path, "node_type"))
    resolved = None
    if type_name is not None:
        resolved = registry.resolve("node", type_name)
        if resolved is None:
            shapes.log.add(
                body["node_type"].mark(shapes.file),
                join(path, "node_type"),
                "type.unknown",
                f"node type '{type_name}' is not defined",
            )
    for section in ("requirements", "capabilities"):
        for name, mapping, entry_path in shapes.named_entries(
            body.get(section), join(path, section)
        ):
            pair = shapes.seq(mapping, entry_path)
            if not pair:
                continue
            target = shapes.name(pair[0], f"{entry_path}[0]")
            if target is not None and target not in nodes:
                shapes.log.add(
                    pair[0].mark(shapes.file),
                    f"{entry_path}[0]",
                    DANGLING_SUBSTITUTION_MAPPING.code,
                    f"'{name}' is mapped to node template '{target}', which does not exist, "
                    f"so it maps nothing; {TOLERATED_NOTE}",
                    "warning",
                )
    properties = shapes.map(body.get("properties"), join(path, "properties"))
    return resolved, properties
