"""The real-time policy section of the contract: each condition and action with its fields,
the bounds, and the cross-checks naming a bad reference by its path."""

from __future__ import annotations

from typing import Any

import pytest

from edgewise.model.desired import DesiredState, DocumentError
from edgewise.model.rtpolicy import MAX_POLICY_RULES

LINKS = [{"name": "inet", "kind": "internet", "interface": "up0", "gateway": "192.0.2.1"}]
STEERING = {
    "classes": [{"name": "voice", "protocol": "udp", "ports": [5060]}],
    "policies": [{"class": "voice", "links": ["inet"]}],
}
SERVICE = {
    "id": "svc-1",
    "name": "s",
    "tenant": "t1",
    "vnfs": [{"name": "fw", "function": "firewall", "config": {}}],
    "chain": ["fw"],
}


def document(*rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "services": [SERVICE],
        "links": LINKS,
        "steering": STEERING,
        "policy_rules": list(rules),
    }


def rule(when: dict[str, Any], then: dict[str, Any], name: str = "r") -> dict[str, Any]:
    return {"name": name, "when": when, "then": then}


def problems(*rules: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(DocumentError) as caught:
        DesiredState.from_document(1, document(*rules))
    return {p.where: p.message for p in caught.value.problems}


GOOD = [
    rule({"kind": "new_flows", "flows_above": 20}, {"kind": "block", "for_s": 30}),
    rule(
        {"kind": "new_flows", "flows_above": 20},
        {"kind": "rate_limit", "source": True, "rate": "1 Mbps"},
    ),
    rule({"kind": "new_flows", "flows_above": 5}, {"kind": "event", "message": "scan"}),
    rule({"kind": "link_down", "link": "inet"}, {"kind": "event"}),
    rule({"kind": "link_sla", "link": "inet"}, {"kind": "steer", "class": "voice", "link": "inet"}),
    rule(
        {"kind": "class_rate", "class": "voice", "rate_above": "10 Mbps"},
        {"kind": "rate_limit", "class": "voice", "rate": "2 Mbps"},
    ),
    rule(
        {
            "kind": "rule_counter",
            "service": "svc-1",
            "vnf": "fw",
            "counter": "rule-0",
            "packets_above": 100,
            "per_s": 5,
        },
        {"kind": "event"},
    ),
    rule({"kind": "vnf_unhealthy", "service": "svc-1", "vnf": "fw"}, {"kind": "event"}),
]


@pytest.mark.parametrize("given", GOOD, ids=lambda r: f"{r['when']['kind']}-{r['then']['kind']}")
def test_each_condition_and_action_reads_and_writes_back(given: dict[str, Any]) -> None:
    state = DesiredState.from_document(1, document(given))
    (found,) = state.policy_rules
    assert found.name == "r"
    again = DesiredState.from_document(1, state.to_document())
    assert again == state


@pytest.mark.parametrize(
    ("when", "then", "where", "says"),
    [
        (
            {"kind": "new_flows"},
            {"kind": "block", "for_s": 3},
            "policy_rules[0].when.flows_above",
            "needs flows_above",
        ),
        (
            {"kind": "link_down", "link": "inet"},
            {"kind": "block", "for_s": 3},
            "policy_rules[0].then.kind",
            "needs a new_flows condition",
        ),
        (
            {"kind": "new_flows", "flows_above": 3},
            {"kind": "steer", "class": "voice", "link": "inet"},
            "policy_rules[0].then.kind",
            "it does not steer",
        ),
        (
            {"kind": "link_down", "link": "inet", "class": "voice"},
            {"kind": "event"},
            "policy_rules[0].when.class",
            "takes no class",
        ),
        (
            {"kind": "link_down", "link": "inet"},
            {"kind": "rate_limit", "rate": "1 Mbps"},
            "policy_rules[0].then.class",
            "a class or (source: true)",
        ),
        (
            {"kind": "new_flows", "flows_above": 100_001},
            {"kind": "event"},
            "policy_rules[0].when.flows_above",
            "from 1 to 100000",
        ),
        (
            {"kind": "new_flows", "flows_above": 5},
            {"kind": "block", "for_s": 86_401},
            "policy_rules[0].then.for_s",
            "from 1 to 86400",
        ),
        (
            {"kind": "class_rate", "class": "voice", "rate_above": "1 bps"},
            {"kind": "event"},
            "policy_rules[0].when.rate_above",
            "outside 8000",
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(
    when: dict[str, Any], then: dict[str, Any], where: str, says: str
) -> None:
    found = problems(rule(when, then))
    assert where in found, found
    assert says in found[where]


def test_references_to_missing_links_and_classes_are_named_by_path() -> None:
    found = problems(
        rule({"kind": "link_down", "link": "lte"}, {"kind": "event"}, "a"),
        rule(
            {"kind": "class_rate", "class": "bulk", "rate_above": "1 Mbps"},
            {"kind": "steer", "class": "voice", "link": "mpls"},
            "b",
        ),
        rule({"kind": "vnf_unhealthy", "service": "gone", "vnf": "nat"}, {"kind": "event"}, "c"),
        rule({"kind": "link_down", "link": "inet"}, {"kind": "event"}, "a"),
    )
    assert found == {
        "policy_rules[0].when.link": "'lte' names no link of links",
        "policy_rules[1].when.class": "'bulk' names no class of steering.classes",
        "policy_rules[1].then.link": "'mpls' names no link of links",
        "policy_rules[3]": "'a' repeats policy_rules[0]",
    }


def test_the_count_of_rules_is_bounded() -> None:
    many = [
        rule({"kind": "link_down", "link": "inet"}, {"kind": "event"}, f"r{i}")
        for i in range(MAX_POLICY_RULES + 1)
    ]
    found = problems(*many)
    assert found == {"policy_rules": f"{MAX_POLICY_RULES + 1} items: at most {MAX_POLICY_RULES}"}


def test_without_rules_the_section_is_left_out_of_the_document() -> None:
    plain = {"services": [SERVICE], "links": LINKS}
    state = DesiredState.from_document(1, plain)
    assert state.policy_rules == ()
    assert "policy_rules" not in state.to_document()
    assert (
        "policy_rules"
        not in DesiredState.from_document(1, {**plain, "policy_rules": []}).to_document()
    )
