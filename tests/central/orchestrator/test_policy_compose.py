"""A site's real-time policy rules composed (pure): its own first, then its tenant's with
`tenant` set; a tenant rule named as a site rule, one naming a link or class the site lacks, and
any beyond the bound are left out, each saying why."""

from __future__ import annotations

from typing import Any

from edgewise.central.orchestrator.policy_compose import LeftOutRule, compose_policy
from edgewise.model.fields import read
from edgewise.model.rtpolicy import MAX_POLICY_RULES, PolicyRule


def rule(name: str, **when: Any) -> PolicyRule:
    condition = when or {"kind": "new_flows", "flows_above": 10}
    return read(PolicyRule, {"name": name, "when": condition, "then": {"kind": "event"}})


def test_site_rules_come_first_and_win_a_shared_name() -> None:
    found = compose_policy(
        tenant_id="t1",
        site_rules=[rule("a"), rule("b")],
        tenant_rules=[rule("b"), rule("c")],
        links=[],
        classes=[],
    )
    assert [(r.name, r.tenant) for r in found.rules] == [("a", None), ("b", None), ("c", "t1")]
    assert found.left_out == (LeftOutRule("tenant", "b", "the site has a rule of the same name"),)


def test_rules_naming_what_the_site_lacks_are_left_out() -> None:
    found = compose_policy(
        tenant_id="t1",
        site_rules=[rule("down", kind="link_down", link="lte")],
        tenant_rules=[rule("rate", kind="class_rate", **{"class": "voice"},
                           rate_above="1 Mbps"), rule("up", kind="link_down", link="mpls")],
        links=["mpls"],
        classes=[],
    )  # fmt: skip
    assert [r.name for r in found.rules] == ["up"]
    assert [(x.name, x.reason) for x in found.left_out] == [
        ("down", "the site's document has no link 'lte'"),
        ("rate", "the site's document has no class 'voice'"),
    ]


def test_no_more_rules_than_the_bound_reach_a_site() -> None:
    many = [rule(f"s{i}") for i in range(MAX_POLICY_RULES)]
    found = compose_policy(tenant_id="t1", site_rules=many, tenant_rules=[rule("extra")],
                           links=[], classes=[])  # fmt: skip
    assert len(found.rules) == MAX_POLICY_RULES
    assert found.left_out[0].name == "extra"
