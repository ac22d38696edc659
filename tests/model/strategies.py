"""Hypothesis strategies derived from the contract's own field declarations: documents a site
should accept (well typed; a record's rules across fields may still refuse some), and the same
documents with one value replaced by something else."""

from __future__ import annotations

import math
import re
from typing import Any

from hypothesis import strategies as st

from edgewise.model.desired import MAX_CHAIN, ServiceSpec
from edgewise.model.fields import Record, specs
from edgewise.model.functions import CONFIGS, VnfFunction
from edgewise.model.kinds import (
    Address,
    Boolean,
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
from edgewise.model.names import NAME
from edgewise.model.units import UNITS

Json = Any
MAX_GENERATED_ITEMS = 3  # keep examples small: lists of up to 3 items whatever the limit


def of_kind(kind: Kind[Any]) -> st.SearchStrategy[Json]:
    """JSON values `kind` reads without a problem of its own."""
    if isinstance(kind, Choice):
        return st.sampled_from(kind.options)
    if isinstance(kind, Integer):
        return st.integers(kind.low, kind.high)
    if isinstance(kind, Boolean):
        return st.booleans()
    if isinstance(kind, Text):
        return texts(kind)
    if isinstance(kind, Prefix):
        return st.builds(lambda a, n: f"{a}/{n}", st.ip_addresses(v=4).map(str), st.integers(0, 32))
    if isinstance(kind, Address):
        return st.ip_addresses(v=4).map(str)
    if isinstance(kind, Scalar):
        return scalars(kind)
    if isinstance(kind, PortRange):
        return st.tuples(st.integers(1, 65535), st.integers(1, 65535)).map(sorted)
    if isinstance(kind, ListOf):
        return st.lists(of_kind(kind.item), max_size=min(kind.max_items, MAX_GENERATED_ITEMS))
    if isinstance(kind, MapOf):
        return st.dictionaries(
            texts(kind.key), of_kind(kind.item), max_size=min(kind.max_items, MAX_GENERATED_ITEMS)
        )
    if isinstance(kind, Record):
        return records(kind.cls)
    raise TypeError(f"no strategy for {kind!r}")


def texts(kind: Text) -> st.SearchStrategy[str]:
    if kind.pattern is not None:
        return st.from_regex(re.compile(kind.pattern), fullmatch=True).filter(
            lambda t: 0 < len(t) <= kind.max_length
        )
    alphabet = st.characters(codec="utf-8", exclude_categories=["Cs"])
    text = st.text(alphabet, min_size=0 if kind.blank else 1, max_size=min(kind.max_length, 12))
    return text if kind.blank else text.filter(str.strip)


def scalars(kind: Scalar) -> st.SearchStrategy[str]:
    units = {u: f for u, f in UNITS[kind.kind].items() if f <= kind.high}

    def within(unit: str) -> st.SearchStrategy[str]:
        factor = units[unit]
        low = max(1, math.ceil(kind.low / factor))
        high = math.floor(kind.high / factor)
        return st.integers(low, min(high, low + 10**6)).map(lambda n: f"{n} {unit}")

    return st.sampled_from(sorted(units)).flatmap(within)


def records(cls: type[Any]) -> st.SearchStrategy[dict[str, Json]]:
    """A record's document: required keys always, optional ones sometimes."""
    required = {s.key: of_kind(s.kind) for s in specs(cls) if s.required}
    optional = {s.key: of_kind(s.kind) for s in specs(cls) if not s.required}
    return st.fixed_dictionaries(required, optional=optional)


def configs(function: VnfFunction) -> st.SearchStrategy[dict[str, Json]]:
    return records(CONFIGS[function])


@st.composite
def services(draw: st.DrawFn, service_id: str) -> dict[str, Json]:
    names = draw(st.lists(texts(NAME), unique=True, max_size=MAX_GENERATED_ITEMS))
    vnfs = []
    for name in names:
        function = draw(st.sampled_from(list(VnfFunction)))
        vnfs.append({"name": name, "function": function.value, "config": draw(configs(function))})
    chain = draw(st.permutations(names))[: draw(st.integers(0, min(len(names), MAX_CHAIN)))]
    identity = {s.key: of_kind(s.kind) for s in specs(ServiceSpec) if s.key in ("name", "tenant")}
    return {"id": service_id, **draw(st.fixed_dictionaries(identity)), "vnfs": vnfs,
            "chain": list(chain)}  # fmt: skip


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Json]:
    ids = draw(st.lists(st.sampled_from(["a", "b", "c", "svc-1"]), unique=True, max_size=2))
    return {"services": [draw(services(i)) for i in ids]}


def mutate(value: Json, path: list[int], replacement: Json) -> Json:
    """Replaces the node reached by following `path` (indexes modulo the children)."""
    if not path or not isinstance(value, dict | list) or not value:
        return replacement
    if isinstance(value, dict):
        key = sorted(value)[path[0] % len(value)]
        return {**value, key: mutate(value[key], path[1:], replacement)}
    index = path[0] % len(value)
    return [*value[:index], mutate(value[index], path[1:], replacement), *value[index + 1 :]]


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.sampled_from(["", " ", "acept", "tpc", "eighty", "10 Mfoo", "2001:db8::/32", "lan"])
    | st.text(max_size=5)
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
