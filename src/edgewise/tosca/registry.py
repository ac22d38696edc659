"""Type registry of one load: the package's types over the built-ins, with inheritance merged.

Lookups accept full names (tosca.nodes.Compute), prefixed short names (tosca:Compute) and
bare normative names (Compute). Unknown parents and derivation cycles are reported by check().
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from edgewise.tosca.builtins import BuiltinTypes
from edgewise.tosca.problems import ProblemLog
from edgewise.tosca.typedefs import KIND_PREFIX, RequirementDef, Schema, TypeDef

_KIND_WORD = {
    "data": "data type",
    "node": "node type",
    "capability": "capability type",
    "relationship": "relationship type",
    "policy": "policy type",
    "interface": "interface type",
    "artifact": "artifact type",
    "group": "group type",
}


@dataclass(frozen=True)
class ResolvedType:
    """A type with everything it inherits merged in; ancestors start with the type itself."""

    kind: str
    name: str
    ancestors: tuple[str, ...]
    properties: dict[str, Schema]
    attributes: dict[str, Schema]
    requirements: dict[str, RequirementDef]
    capabilities: dict[str, str]
    interfaces: dict[str, str]
    targets: tuple[str, ...]
    primitive: str | None


def kind_word(kind: str) -> str:
    return _KIND_WORD[kind]


class TypeRegistry:
    """The types visible to one descriptor; resolution results are memoised per registry."""

    def __init__(self, local: dict[tuple[str, str], TypeDef], builtins: BuiltinTypes) -> None:
        self.local = local
        self.builtins = builtins
        self._resolved: dict[tuple[str, str], ResolvedType | None] = {}
        self._active: set[tuple[str, str]] = set()

    def find(self, kind: str, name: str) -> TypeDef | None:
        for candidate in self._candidates(kind, name):
            found = self.local.get((kind, candidate)) or self.builtins.get((kind, candidate))
            if found is not None:
                return found
        return None

    def _candidates(self, kind: str, name: str) -> tuple[str, ...]:
        if name.startswith("tosca:"):
            return (KIND_PREFIX[kind] + name[6:],)
        if "." in name or kind == "data":
            return (name,) if kind != "data" or "." in name else (name, KIND_PREFIX[kind] + name)
        return (name, KIND_PREFIX[kind] + name)

    def resolve(self, kind: str, name: str) -> ResolvedType | None:
        found = self.find(kind, name)
        if found is None:
            return None
        key = (kind, found.name)
        if key in self._resolved:
            return self._resolved[key]
        if key in self._active:
            return None
        self._active.add(key)
        parent = self.resolve(kind, found.parent) if found.parent else None
        self._active.discard(key)
        result = _merge(found, parent)
        self._resolved[key] = result
        return result

    def is_a(self, kind: str, name: str, ancestor: str) -> bool:
        resolved = self.resolve(kind, name)
        if resolved is None:
            return False
        target = self.find(kind, ancestor)
        return target is not None and target.name in resolved.ancestors

    def check(self, log: ProblemLog) -> None:
        """Report unknown parents, derivation cycles and unknown member types of local types."""
        for (kind, name), typedef in self.local.items():
            path = f"{kind}_types.{name}"
            if typedef.parent and self.find(kind, typedef.parent) is None:
                log.add(
                    typedef.mark,
                    f"{path}.derived_from",
                    "type.unknown",
                    f"{name} derives from {kind_word(kind)} '{typedef.parent}', which is "
                    "not defined here, in an import, or among the standard types",
                )
            elif self._in_cycle(kind, typedef):
                log.add(
                    typedef.mark,
                    f"{path}.derived_from",
                    "type.cycle",
                    f"{kind_word(kind)} {name} derives from itself through derived_from",
                )
            for section, schemas in (
                ("properties", typedef.properties),
                ("attributes", typedef.attributes),
            ):
                for prop, schema in schemas.items():
                    self._check_schema(schema, f"{path}.{section}.{prop}", log)
            for cap, cap_type in typedef.capabilities.items():
                if self.find("capability", cap_type) is None:
                    log.add(
                        typedef.mark,
                        f"{path}.capabilities.{cap}",
                        "type.unknown",
                        f"capability type '{cap_type}' is not defined",
                    )

    def _check_schema(self, schema: Schema, path: str, log: ProblemLog) -> None:
        if schema.type and self.find("data", schema.type) is None:
            log.add(
                schema.mark,
                f"{path}.type",
                "type.unknown",
                f"data type '{schema.type}' is not defined; expected a TOSCA type "
                "(string, integer, list, ...) or a data type defined or imported here",
            )
        if schema.entry is not None:
            self._check_schema(schema.entry, f"{path}.entry_schema", log)

    def _in_cycle(self, kind: str, typedef: TypeDef) -> bool:
        seen = {typedef.name}
        current: TypeDef | None = typedef
        while current is not None and current.parent:
            current = self.find(kind, current.parent)
            if current is None:
                return False
            if current.name in seen:
                return True
            seen.add(current.name)
        return False


def _merge(own: TypeDef, parent: ResolvedType | None) -> ResolvedType:
    if parent is None:
        return ResolvedType(
            kind=own.kind,
            name=own.name,
            ancestors=(own.name,),
            properties=dict(own.properties),
            attributes=dict(own.attributes),
            requirements={r.name: r for r in own.requirements},
            capabilities=dict(own.capabilities),
            interfaces=dict(own.interfaces),
            targets=own.targets,
            primitive=own.name if own.primitive else None,
        )
    return ResolvedType(
        kind=own.kind,
        name=own.name,
        ancestors=(own.name, *parent.ancestors),
        properties=_refine(parent.properties, own.properties),
        attributes=_refine(parent.attributes, own.attributes),
        requirements={**parent.requirements, **{r.name: r for r in own.requirements}},
        capabilities={**parent.capabilities, **own.capabilities},
        interfaces={**parent.interfaces, **own.interfaces},
        targets=own.targets or parent.targets,
        primitive=parent.primitive,
    )


def _refine(inherited: dict[str, Schema], own: dict[str, Schema]) -> dict[str, Schema]:
    merged = dict(inherited)
    for name, stated in own.items():
        base = inherited.get(name)
        schema = stated
        if base is not None and not stated.type:
            schema = replace(
                base,
                mark=stated.mark,
                required=base.required if stated.required is None else stated.required,
                default=base.default if stated.default is None else stated.default,
                constraints=base.constraints + stated.constraints,
            )
        elif not stated.type:
            schema = replace(stated, type="any")
        merged[name] = schema
    return merged
