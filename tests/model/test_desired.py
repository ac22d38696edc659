"""The desired-state document: validation lists every problem; to/from document round-trips."""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgewise.model.desired import (
    DesiredState,
    DocumentError,
    ServiceSpec,
    VnfFunction,
    VnfSpec,
)

GOOD: dict[str, Any] = {
    "services": [
        {
            "id": "svc-1", "name": "vcpe", "tenant": "t-1",
            "vnfs": [
                {"name": "fw", "function": "firewall",
                 "config": {"default_action": "drop", "rules": [{"port": 22}]}},
                {"name": "nat", "function": "nat", "config": {"mode": "masquerade"}},
            ],
            "chain": ["fw", "nat"],
        }
    ],
    "links": {"later": True},
}  # fmt: skip


def problems_of(document: object) -> tuple[str, ...]:
    with pytest.raises(DocumentError) as caught:
        DesiredState.from_document(1, document)
    return caught.value.problems


def test_the_channel_example_loads() -> None:
    state = DesiredState.from_document(7, GOOD)
    [service] = state.services
    assert service.chain == ("fw", "nat")
    assert service.vnfs[0].function is VnfFunction.FIREWALL
    assert state.extra == {"links": {"later": True}}
    assert state.to_document() == GOOD
    assert state.service("svc-1") is service
    assert service.vnf("nat") is service.vnfs[1]


def test_every_problem_is_listed_with_its_path() -> None:
    document = copy.deepcopy(GOOD)
    document["services"][0]["vnfs"][0]["function"] = "fw"
    document["services"][0]["vnfs"].append({"name": "nat", "function": "nat", "config": []})
    document["services"][0]["chain"] = ["fw", "ghost", "fw"]
    document["services"].append(dict(GOOD["services"][0], tenant=3))
    document["services"].append(dict(GOOD["services"][0]))
    document["services"].append("oops")
    assert problems_of(document) == (
        (
            "services[0].vnfs[0].function: 'fw' is not one of 'router', 'firewall', 'nat', "
            "'rate-limiter', 'classifier', 'process'"
        ),
        "services[0].vnfs[2].name: 'nat' repeats services[0].vnfs[1].name",
        "services[0].vnfs[2].config: expected an object, got an array",
        "services[0].chain[1]: 'ghost' names no VNF of this service",
        "services[0].chain[2]: 'fw' appears twice in the chain",
        "services[1].tenant: 3 is not a non-empty string",
        "services[1].id: 'svc-1' repeats services[0].id",
        "services[2].id: 'svc-1' repeats services[0].id",
        "services[3]: expected an object, got a string",
    )


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "document: expected an object, got an array"),
        ({}, "services: missing"),
        ({"services": {}}, "services: expected an array, got an object"),
        ({"services": [{"id": "s"}]}, "services[0].name: missing"),
        ({"services": [], "x": float("nan")}, "x: nan is not a finite number"),
        ({"services": [{"id": "s", "name": "n", "tenant": "t", "vnfs": [
            {"name": "a", "function": "nat", "config": {"k": {1, 2}}}]}]},
         "services[0].vnfs[0].config.k: set is not a JSON value"),
    ],
)  # fmt: skip
def test_single_problems(document: object, problem: str) -> None:
    assert problem in problems_of(document)


def test_a_bad_revision_is_a_problem() -> None:
    with pytest.raises(DocumentError, match="revision: True"):
        DesiredState.from_document(True, {"services": []})


def test_config_is_deeply_frozen_and_digested_canonically() -> None:
    one = VnfSpec("fw", VnfFunction.FIREWALL, {"b": [1, {"c": 2}], "a": 1})
    two = VnfSpec("fw", VnfFunction.FIREWALL, {"a": 1, "b": [1, {"c": 2}]})
    assert isinstance(one.config, MappingProxyType)
    assert isinstance(one.config["b"], tuple)
    with pytest.raises(TypeError):
        one.config["a"] = 2  # type: ignore[index]
    assert one.config_digest() == two.config_digest()
    assert one.config_digest() != VnfSpec("fw", VnfFunction.FIREWALL, {"a": 2}).config_digest()


def test_vnfs_in_chain_order() -> None:
    a, b, c = (VnfSpec(n, VnfFunction.ROUTER) for n in "abc")
    assert ServiceSpec("s", "s", "t", (a, b, c), ("c", "a")).vnfs_in_chain_order() == (c, a, b)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=5)
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
names = st.text(alphabet="abcdefgh-0123", min_size=1, max_size=6)


@st.composite
def services(draw: st.DrawFn, sid: str) -> dict[str, Any]:
    vnf_names = draw(st.lists(names, unique=True, max_size=4))
    vnfs = [
        {"name": n, "function": draw(st.sampled_from(list(VnfFunction))).value,
         "config": draw(st.dictionaries(st.text(max_size=4), json_values, max_size=3))}
        for n in vnf_names
    ]  # fmt: skip
    chain = draw(st.permutations(vnf_names))[: draw(st.integers(0, len(vnf_names)))]
    return {"id": sid, "name": draw(names), "tenant": draw(names), "vnfs": vnfs, "chain": chain}


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(names, unique=True, max_size=3))
    extra = draw(st.dictionaries(st.sampled_from(["links", "policies"]), json_values, max_size=2))
    return {**extra, "services": [draw(services(sid)) for sid in ids]}


@given(documents(), st.integers(0, 2**40))
def test_round_trip(document: dict[str, Any], revision: int) -> None:
    state = DesiredState.from_document(revision, document)
    assert state.to_document() == document
    assert DesiredState.from_document(revision, state.to_document()) == state


def mutate(value: Any, path: list[int], replacement: Any) -> Any:
    """Replaces the node reached by following `path` (indexes modulo the children)."""
    if not path or not isinstance(value, dict | list) or not value:
        return replacement
    if isinstance(value, dict):
        key = sorted(value)[path[0] % len(value)]
        return {**value, key: mutate(value[key], path[1:], replacement)}
    index = path[0] % len(value)
    return [*value[:index], mutate(value[index], path[1:], replacement), *value[index + 1 :]]


@settings(max_examples=300)
@given(
    documents(),
    st.lists(st.integers(0, 10), max_size=6),
    json_values | st.sampled_from([float("inf"), {1: 2}, object(), b"x"]),
)
def test_mutated_documents_raise_only_document_error(
    document: dict[str, Any], path: list[int], replacement: Any
) -> None:
    problems: tuple[str, ...] = ()
    try:
        DesiredState.from_document(1, mutate(document, path, replacement))
    except DocumentError as exc:
        problems = exc.problems or ("<empty>",)
    assert all(isinstance(p, str) and p != "<empty>" for p in problems)
