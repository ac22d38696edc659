"""The desired-state document: every problem listed with its path; documents round-trip through
the typed values; whatever is thrown at the reader, only DocumentError comes out."""

from __future__ import annotations

import copy
from ipaddress import IPv4Network
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from edgewise.model.desired import (
    DesiredState,
    DocumentError,
    Problem,
    ServiceSpec,
    VnfFunction,
    VnfSpec,
)
from edgewise.model.functions import FirewallConfig, FirewallRule, RouterConfig

from .strategies import documents, json_values, mutate

GOOD: dict[str, Any] = {
    "services": [
        {
            "id": "svc-1", "name": "vcpe", "tenant": "t-1",
            "vnfs": [
                {"name": "fw", "function": "firewall",
                 "config": {"default_action": "drop",
                            "rules": [{"protocol": "tcp", "port": 22}]}},
                {"name": "nat", "function": "nat", "config": {"mode": "masquerade"}},
            ],
            "chain": ["fw", "nat"],
        }
    ],
}  # fmt: skip
CANONICAL_RULE = {"action": "accept", "protocol": "tcp", "port": 22, "direction": "outbound"}


def problems_of(document: object) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        DesiredState.from_document(1, document)
    return [str(p) for p in caught.value.problems]


def test_the_channel_example_loads_typed() -> None:
    state = DesiredState.from_document(7, GOOD)
    [service] = state.services
    assert service.chain == ("fw", "nat")
    firewall = service.vnfs[0]
    assert firewall.function is VnfFunction.FIREWALL
    assert firewall.config == FirewallConfig("drop", (FirewallRule(protocol="tcp", port=22),))
    assert state.service("svc-1") is service
    assert service.vnf("nat") is service.vnfs[1]


def test_the_written_document_is_canonical_and_reads_back_equal() -> None:
    state = DesiredState.from_document(7, GOOD)
    written = state.to_document()
    assert written["services"][0]["vnfs"][0]["config"] == {
        "default_action": "drop",
        "rules": [CANONICAL_RULE],
    }
    assert written["services"][0]["vnfs"][1]["config"] == {"mode": "masquerade",
                                                           "port_forwards": []}  # fmt: skip
    assert DesiredState.from_document(7, written) == state


def test_every_problem_is_listed_with_its_path() -> None:
    document = copy.deepcopy(GOOD)
    services = document["services"]
    services[0]["vnfs"][0]["function"] = "fw"
    services[0]["vnfs"].append({"name": "nat", "function": "nat", "config": []})
    services[0]["chain"] = ["fw", "ghost", "fw"]
    services.append(dict(services[0], tenant=3))
    services.append(dict(GOOD["services"][0]))
    services.append(dict(GOOD["services"][0]))
    services.append("oops")
    assert problems_of(document) == [
        (
            "services[0].vnfs[0].function: 'fw' is not one of router, firewall, nat, rate-limiter, "
            "classifier, process, software"
        ),
        "services[0].vnfs[2].config: an array is not an object",
        "services[1].tenant: 3 is not an id of letters, digits, _ . : -",
        (
            "services[1].vnfs[0].function: 'fw' is not one of router, firewall, nat, rate-limiter, "
            "classifier, process, software"
        ),
        "services[1].vnfs[2].config: an array is not an object",
        "services[4]: 'oops' is not an object",
    ]


def test_rules_across_fields_are_checked_once_fields_are_well_typed() -> None:
    document = copy.deepcopy(GOOD)
    document["services"][0]["chain"] = ["fw", "ghost", "fw"]
    assert problems_of(document) == [
        "services[0].chain[1]: 'ghost' names no VNF of this service",
        "services[0].chain[2]: 'fw' appears twice in the chain",
    ]
    twice = {"services": [GOOD["services"][0], GOOD["services"][0]]}
    assert problems_of(twice) == ["services[1]: 'svc-1' repeats services[0]"]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "(document): an array is not an object"),
        ({}, ("services: missing: expected an array of at most 1024 items, each an object: "
             "id, name, tenant, vnfs, chain")),
        ({"services": {}}, ("services: an object is not an array of at most 1024 items, each an "
                           "object: id, name, tenant, vnfs, chain")),
        ({"services": [], "policy": {}},
         ("policy: not a property of this object; it has links, overlays, policy_rules, "
          "services, steering")),
        ({"services": [], "links": {}}, ("links: an object is not an array of at most 8 items, "
         "each an object: name, kind, interface, address, gateway, dhcp, bandwidth_up, "
         "bandwidth_down, cost, metered, probe")),
        ({"services": [{"id": "s", "tenant": "t"}]},
         "services[0].name: missing: expected a non-empty string"),
        ({"services": [{"id": "s", "name": "n", "tenant": "t", "vnfs": [
            {"name": "a", "function": "nat", "config": {"mode": float("nan")}}]}]},
         "services[0].vnfs[0].config.mode: nan is not one of masquerade, snat"),
        ({"services": [{"id": "s", "name": "n", "tenant": "t", "vnfs": [
            {"name": "a", "function": "router", "config": {"routes": [{"destination": "x"}]}}]}]},
         ("services[0].vnfs[0].config.routes[0].destination: 'x' is not an IPv4 address or prefix "
         "(e.g. 192.0.2.0/24)")),
    ],
)  # fmt: skip
def test_single_problems(document: object, problem: str) -> None:
    assert problem in problems_of(document)


def test_a_bad_revision_is_a_problem() -> None:
    with pytest.raises(DocumentError, match="revision: true is not a non-negative integer"):
        DesiredState.from_document(True, {"services": []})


def test_the_config_digest_is_of_the_canonical_form() -> None:
    short = DesiredState.from_document(1, GOOD).services[0].vnfs[0]
    spelled = copy.deepcopy(GOOD)
    spelled["services"][0]["vnfs"][0]["config"]["rules"] = [CANONICAL_RULE]
    long = DesiredState.from_document(1, spelled).services[0].vnfs[0]
    assert short.config_digest() == long.config_digest()
    other = VnfSpec("fw", VnfFunction.FIREWALL, FirewallConfig("accept"))
    assert other.config_digest() != short.config_digest()


def test_a_vnf_config_must_be_of_its_function() -> None:
    with pytest.raises(TypeError, match="a firewall VNF with a RouterConfig"):
        VnfSpec("fw", VnfFunction.FIREWALL, RouterConfig())


def test_vnfs_in_chain_order() -> None:
    a, b, c = (VnfSpec(n, VnfFunction.ROUTER, RouterConfig()) for n in "abc")
    assert ServiceSpec("s", "s", "t", (a, b, c), ("c", "a")).vnfs_in_chain_order() == (c, a, b)


def test_prefixes_are_held_as_networks_with_host_bits_cleared() -> None:
    document = copy.deepcopy(GOOD)
    document["services"][0]["vnfs"][0]["config"]["rules"][0]["source"] = "10.1.2.3/8"
    rule = DesiredState.from_document(1, document).services[0].vnfs[0].config
    assert isinstance(rule, FirewallConfig)
    assert rule.rules[0].source == IPv4Network("10.0.0.0/8")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.integers(0, 2**40))
def test_round_trip(document: dict[str, Any], revision: int) -> None:
    try:
        state = DesiredState.from_document(revision, document)
    except DocumentError as exc:  # a rule across fields (a port on icmp): only those refuse
        assume(False)
        raise AssertionError from exc
    written = state.to_document()
    again = DesiredState.from_document(revision, written)
    assert again == state
    assert again.to_document() == written


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    documents(),
    st.lists(st.integers(0, 10), max_size=7),
    json_values | st.sampled_from([float("inf"), {1: 2}, object(), b"x", "x" * 5000]),
)
def test_mutated_documents_raise_only_document_error(
    document: dict[str, Any], path: list[int], replacement: Any
) -> None:
    problems: tuple[Problem, ...] = ()
    try:
        DesiredState.from_document(1, mutate(document, path, replacement))
    except DocumentError as exc:
        problems = exc.problems or (Problem((), ""),)
    assert all(p.message and isinstance(p.where, str) for p in problems)
