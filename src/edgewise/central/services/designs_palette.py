"""What a designer may put in a chain: the native function types with a typed field per
property (read from the types' own property definitions), and the onboarded, enabled VNF
packages the caller sees (from the catalog, through its scoping)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from edgewise.central.services import catalog, catalog_content
from edgewise.central.services.access import Principal
from edgewise.central.services.catalog import CatalogKind
from edgewise.central.services.designs_nsd import PackageFunction
from edgewise.central.services.errors import ServiceError
from edgewise.central.services.views import VnfdDescription
from edgewise.model.functions import TOSCA_TYPES
from edgewise.tosca import Limits, TypeCache, Vnfd, load_bytes
from edgewise.tosca.registry import TypeRegistry
from edgewise.tosca.typedefs import Schema
from edgewise.tosca.yamltree import plain

VNF_TYPE = "tosca.nodes.nfv.VNF"
MAX_PACKAGES = 100
_NUMBER_BOUNDS = {
    "greater_or_equal": "min",
    "greater_than": "min",
    "less_or_equal": "max",
    "less_than": "max",
}


@dataclass(frozen=True)
class FieldSpec:
    """One property as a form field: `widget` says which (text, integer, number, boolean,
    enum, list, records, map, range, scalar) and the rest bounds it."""

    key: str
    widget: str
    type: str
    required: bool
    default: Any = None
    choices: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None
    entry: str = ""  # a list's or map's entry type
    fields: tuple[FieldSpec, ...] = ()  # a record's fields (a list of a data type)


@dataclass(frozen=True)
class NativeChoice:
    type: str
    label: str
    function: str
    fields: tuple[FieldSpec, ...]


@dataclass(frozen=True)
class Palette:
    natives: tuple[NativeChoice, ...]
    packages: tuple[PackageFunction, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "natives": [asdict(n) for n in self.natives],
            "packages": [asdict(p) for p in self.packages],
        }

    def package_map(self) -> dict[str, PackageFunction]:
        return {p.vnfd_id: p for p in self.packages}


def native_choices(types: TypeCache) -> tuple[NativeChoice, ...]:
    """Every native function type, its own properties (not the VNF's identity) as fields."""
    registry = TypeRegistry({}, types.builtins())
    vnf = registry.resolve("node", VNF_TYPE)
    identity = set(vnf.properties) if vnf else set()
    choices = []
    for type_name, function in TOSCA_TYPES.items():
        resolved = registry.resolve("node", type_name)
        if resolved is None:
            continue
        fields = tuple(
            field_spec(key, schema, registry)
            for key, schema in resolved.properties.items()
            if key not in identity
        )
        label = type_name.rsplit(".", 1)[-1]
        choices.append(NativeChoice(type_name, _words(label), function.value, fields))
    return tuple(choices)


def field_spec(key: str, schema: Schema, registry: TypeRegistry, depth: int = 0) -> FieldSpec:
    default = plain(schema.default) if schema.default is not None else None
    required = schema.is_required and default is None
    low, high, choices = _bounds(schema)
    common: dict[str, Any] = {"key": key, "type": schema.type, "required": required}
    if choices:
        return FieldSpec(**common, widget="enum", default=default, choices=choices)
    if schema.type in ("integer", "float"):
        widget = "integer" if schema.type == "integer" else "number"
        return FieldSpec(**common, widget=widget, default=default, min=low, max=high)
    if schema.type in ("list", "map") and schema.entry is not None:
        entry = registry.resolve("data", schema.entry.type)
        if schema.type == "list" and entry is not None and entry.primitive is None and depth < 2:
            fields = tuple(
                field_spec(k, s, registry, depth + 1) for k, s in entry.properties.items()
            )
            return FieldSpec(**common, widget="records", entry=schema.entry.type, fields=fields)
        return FieldSpec(**common, widget=schema.type, entry=schema.entry.type, default=default)
    widget = {"boolean": "boolean", "range": "range"}.get(schema.type, "text")
    if schema.type.startswith("scalar-unit."):
        widget = "scalar"
    return FieldSpec(**common, widget=widget, default=default, min=low, max=high)


def _bounds(schema: Schema) -> tuple[float | None, float | None, tuple[Any, ...]]:
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    for constraint in schema.constraints:
        argument = constraint.argument
        if constraint.operator == "valid_values" and isinstance(argument, list):
            choices = tuple(argument)
        elif constraint.operator == "in_range" and isinstance(argument, list):
            low, high = _number(argument[0]), _number(argument[1])
        elif constraint.operator in _NUMBER_BOUNDS:
            bound = _number(argument)
            if _NUMBER_BOUNDS[constraint.operator] == "min":
                low = bound
            else:
                high = bound
    return low, high, choices


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _words(name: str) -> str:
    """RateLimiter -> Rate limiter."""
    spaced = "".join(f" {c.lower()}" if c.isupper() and i else c for i, c in enumerate(name))
    return "NAT" if name == "Nat" else spaced


def package_choices(
    session: Session,
    principal: Principal,
    types: TypeCache,
    wanted: frozenset[str] | None = None,
) -> tuple[PackageFunction, ...]:
    """The onboarded, enabled VNF packages `principal` sees (only those of the `wanted` VNFD
    ids when given), each with its VNFD's flavours."""
    found: list[PackageFunction] = []
    for item in catalog.list_items(session, principal, CatalogKind.VNF_PACKAGE):
        if len(found) >= MAX_PACKAGES:
            break
        described = item.descriptor
        if item.operational_state != "ENABLED" or not isinstance(described, VnfdDescription):
            continue
        if wanted is not None and described.vnfd_id not in wanted:
            continue
        flavours = _flavours(session, principal, item.id, types)
        if not flavours:
            continue
        found.append(
            PackageFunction(
                item.id, described.vnfd_id, described.vnfd_version, described.provider,
                described.product_name, described.software_version, flavours,
            )
        )  # fmt: skip
    return tuple(found)


def _flavours(
    session: Session, principal: Principal, item_id: str, types: TypeCache
) -> tuple[tuple[str, str], ...]:
    try:
        content = catalog_content.content(
            session, principal, CatalogKind.VNF_PACKAGE, item_id, accept="application/zip"
        )
    except ServiceError:
        return ()
    loaded = load_bytes(content.data, "package.zip", Limits(), types)
    if not isinstance(loaded.descriptor, Vnfd):
        return ()
    return tuple((f.flavour_id, f.description) for f in loaded.descriptor.flavours)


def palette(session: Session, principal: Principal, types: TypeCache) -> Palette:
    return Palette(native_choices(types), package_choices(session, principal, types))
