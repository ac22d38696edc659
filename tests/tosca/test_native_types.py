"""The TOSCA types of the native functions (builtin/edgewise.yaml) declare exactly the properties
of the desired-state contract (edgewise.model.functions): the same names, the same required ones,
the same defaults and compatible types. Adding a property is one declaration in the model plus
its line in the type file; forgetting either fails here."""

from __future__ import annotations

from typing import Any

import pytest

from edgewise.model.fields import Record, specs
from edgewise.model.functions import CONFIGS, TOSCA_TYPES
from edgewise.model.kinds import (
    Address,
    Choice,
    Integer,
    Kind,
    ListOf,
    MapOf,
    PortRange,
    Prefix,
    Scalar,
    Text,
)
from edgewise.tosca.cache import TypeCache
from edgewise.tosca.typedefs import Schema, TypeDef
from edgewise.tosca.yamltree import plain

BUILTINS = TypeCache().builtins()
BASE = BUILTINS[("node", "edgewise.nodes.Function")]


def tosca_type(kind: Kind[Any]) -> str:
    if isinstance(kind, Choice | Text | Prefix | Address):
        return "string"
    if isinstance(kind, Integer):
        return "integer"
    if isinstance(kind, Scalar):
        return kind.kind
    if isinstance(kind, PortRange):
        return "range"
    if isinstance(kind, ListOf):
        return "list"
    if isinstance(kind, MapOf):
        return "map"
    if isinstance(kind, Record):
        return ""
    raise TypeError(kind)


def agree(typedef: TypeDef, cls: type[Any], own: set[str]) -> list[str]:
    """What differs between a TOSCA type's own properties and a contract record."""
    found: list[str] = []
    fields = {s.key: s for s in specs(cls)}
    if own != set(fields):
        found.append(f"{typedef.name}: TOSCA has {sorted(own)}, the model {sorted(fields)}")
    for name in sorted(own & set(fields)):
        schema, spec = typedef.properties[name], fields[name]
        where = f"{typedef.name}.{name}"
        found += compare(where, schema, spec.kind)
        default = plain(schema.default) if schema.default is not None else None
        if spec.required != (bool(schema.required) and default is None):
            found.append(f"{where}: required in one and not the other")
        written = spec.kind.write(spec.default) if spec.default not in (None, ()) else None
        if default != written:
            found.append(f"{where}: default {default!r} in TOSCA, {written!r} in the model")
        if isinstance(spec.kind, Choice):
            valid = next((c.argument for c in schema.constraints
                          if c.operator == "valid_values"), None)  # fmt: skip
            if valid != list(spec.kind.options):
                found.append(f"{where}: valid values {valid} in TOSCA, {spec.kind.options}")
    return found


def compare(where: str, schema: Schema, kind: Kind[Any]) -> list[str]:
    if schema.type != tosca_type(kind):
        return [f"{where}: TOSCA type {schema.type}, the model {type(kind).__name__}"]
    if isinstance(kind, ListOf | MapOf):
        assert schema.entry is not None, where
        item = kind.item
        if isinstance(item, Record):
            datatype = BUILTINS[("data", schema.entry.type)]
            return agree(datatype, item.cls, set(datatype.properties))
        return compare(f"{where}[]", schema.entry, item)
    return []


@pytest.mark.parametrize("type_name", sorted(TOSCA_TYPES))
def test_each_native_type_declares_the_contract(type_name: str) -> None:
    typedef = BUILTINS[("node", type_name)]
    own = set(typedef.properties) - set(BASE.properties)
    redeclared = {"descriptor_id", "product_name"}  # the base's, with this type's defaults
    assert agree(typedef, CONFIGS[TOSCA_TYPES[type_name]], own - redeclared) == []
