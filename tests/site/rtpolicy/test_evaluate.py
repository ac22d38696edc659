"""Real-time policy's evaluation (pure): each condition from telemetry, the hold after it
last held, the events of what changed, and the actions of the active rules."""

from __future__ import annotations

from typing import Any

import pytest

from edgewise.model.fields import read
from edgewise.model.rtpolicy import PolicyRule
from edgewise.site.health.states import LinkState
from edgewise.site.rtpolicy.evaluate import (
    MAX_SOURCE_EVENTS,
    RuleState,
    Telemetry,
    Verdict,
    evaluate,
)

UP, DEGRADED, DOWN = LinkState.UP, LinkState.DEGRADED, LinkState.DOWN


def rule(when: dict[str, Any], then: dict[str, Any] | None = None, **more: Any) -> PolicyRule:
    return read(PolicyRule, {"name": "r", "when": when, "then": then or {"kind": "event"},
                             **more})  # fmt: skip


def run(found: PolicyRule, *readings: Telemetry) -> list[Verdict]:
    """The verdicts of evaluating `found` at each telemetry in turn."""
    states: dict[str, RuleState] = {}
    verdicts = []
    for telemetry in readings:
        verdict = evaluate([found], telemetry, states)
        states = dict(verdict.states)
        verdicts.append(verdict)
    return verdicts


def names(verdict: Verdict) -> list[str]:
    return [e["event"] for e in verdict.events]


LINK_DOWN = {"kind": "link_down", "link": "inet"}
LINK_SLA = {"kind": "link_sla", "link": "inet"}


@pytest.mark.parametrize(
    ("when", "links", "holds"),
    [
        (LINK_DOWN, None, False),  # health not known yet: no condition holds
        (LINK_DOWN, {"inet": UP}, False),
        (LINK_DOWN, {"inet": DEGRADED}, False),
        (LINK_DOWN, {"inet": DOWN}, True),
        (LINK_DOWN, {}, True),  # a link steering does not know is down
        (LINK_SLA, {"inet": UP}, False),
        (LINK_SLA, {"inet": DEGRADED}, True),
        (LINK_SLA, {"inet": DOWN}, True),
    ],
)
def test_link_conditions(
    when: dict[str, Any], links: dict[str, LinkState] | None, holds: bool
) -> None:
    (verdict,) = run(rule(when), Telemetry(at=1.0, links=links))
    assert verdict.states["r"].active is holds
    assert names(verdict) == (["policy-triggered"] if holds else [])


def test_an_action_outlives_its_condition_by_hold_s_then_clears() -> None:
    found = rule(LINK_DOWN, hold_s=5)
    verdicts = run(
        found,
        Telemetry(at=0.0, links={"inet": DOWN}),
        Telemetry(at=1.0, links={"inet": UP}),
        Telemetry(at=4.9, links={"inet": UP}),
        Telemetry(at=5.0, links={"inet": UP}),
        Telemetry(at=6.0, links={"inet": UP}),
    )
    assert [v.states["r"].active for v in verdicts] == [True, True, True, False, False]
    assert [names(v) for v in verdicts] == [["policy-triggered"], [], [], ["policy-cleared"], []]


def class_rate(at: float, sent: int) -> Telemetry:
    return Telemetry(at=at, class_bytes={"bulk": sent})


CAP = {"kind": "class_rate", "class": "bulk", "rate_above": "40 Mbps"}
LIMIT = {"kind": "rate_limit", "class": "bulk", "rate": "10 Mbps"}


def test_a_class_above_its_rate_is_limited_from_the_second_reading() -> None:
    verdicts = run(rule(CAP, LIMIT), class_rate(0.0, 0), class_rate(1.0, 6_000_000),
                   class_rate(2.0, 7_000_000))  # fmt: skip
    assert [v.states["r"].active for v in verdicts] == [False, True, True]  # 48, then 8 Mbit/s
    assert verdicts[1].enforcement.limits == {"r": ("bulk", 10_000_000)}
    assert "class bulk at 48000000 bit/s" in verdicts[1].events[0]["detail"]


def test_a_counter_that_went_back_gives_no_rate() -> None:
    verdicts = run(rule(CAP), class_rate(0.0, 90_000_000), class_rate(1.0, 10))
    assert not verdicts[1].states["r"].active


def test_a_rule_counter_is_read_over_its_window() -> None:
    when = {"kind": "rule_counter", "service": "s", "vnf": "fw", "counter": "rule-0",
            "packets_above": 100, "per_s": 3}  # fmt: skip

    def seen(at: float, packets: int) -> Telemetry:
        return Telemetry(at=at, vnfs={"s/fw": (True, {"rule-0": packets})})

    verdicts = run(rule(when, hold_s=0), seen(0, 0), seen(1, 40), seen(2, 80), seen(3, 101),
                   seen(4, 120), seen(8, 130))  # fmt: skip
    # 101 packets from 0 to 3 s: above 100; then 80 from 1 to 4 s; then 10 over the window
    assert [v.states["r"].active for v in verdicts] == [False, False, False, True, False, False]


@pytest.mark.parametrize(
    ("vnfs", "holds"),
    [
        (None, False),  # not observed yet
        ({"s/fw": (True, {})}, False),
        ({"s/fw": (False, {})}, True),
        ({}, True),  # the VNF is not running at all
    ],
)
def test_vnf_unhealthy(vnfs: dict[str, tuple[bool, dict[str, int]]] | None, holds: bool) -> None:
    when = {"kind": "vnf_unhealthy", "service": "s", "vnf": "fw"}
    (verdict,) = run(rule(when), Telemetry(at=0.0, vnfs=vnfs))
    assert verdict.states["r"].active is holds


SCAN = {"kind": "new_flows", "flows_above": 20}


def flagged(at: float, *sources: str) -> Telemetry:
    return Telemetry(at=at, sources={"r": frozenset(sources)})


def test_each_source_the_kernel_flags_and_lets_go_is_an_event() -> None:
    verdicts = run(
        rule(SCAN, {"kind": "block", "for_s": 30}),
        flagged(0, "192.0.2.66"),
        flagged(1, "192.0.2.66", "192.0.2.67"),
        flagged(2, "192.0.2.67"),
        flagged(3),
    )
    told = [[(e["event"], e["source"]) for e in v.events] for v in verdicts]
    assert told == [
        [("policy-triggered", "192.0.2.66")],
        [("policy-triggered", "192.0.2.67")],
        [("policy-cleared", "192.0.2.66")],
        [("policy-cleared", "192.0.2.67")],
    ]
    assert verdicts[0].events[0]["action"] == "block"
    assert verdicts[0].enforcement.limits == {}  # the kernel acts on the source itself


def test_a_flood_of_sources_is_told_in_a_bounded_number_of_events() -> None:
    many = [f"198.51.100.{i}" for i in range(1, 201)]
    (verdict,) = run(rule(SCAN), flagged(0, *many))
    assert len(verdict.events) == MAX_SOURCE_EVENTS + 1
    assert verdict.events[-1]["more"] == 200 - MAX_SOURCE_EVENTS


def test_the_first_active_rule_steering_a_class_decides_its_link() -> None:
    rules = [
        read(PolicyRule, {"name": "a", "when": LINK_DOWN,
                          "then": {"kind": "steer", "class": "voice", "link": "lte"}}),
        read(PolicyRule, {"name": "b", "when": LINK_SLA,
                          "then": {"kind": "steer", "class": "voice", "link": "mpls"}}),
    ]  # fmt: skip
    degraded = evaluate(rules, Telemetry(at=0.0, links={"inet": DEGRADED}), {})
    assert degraded.enforcement.steer == {"voice": "mpls"}
    down = evaluate(rules, Telemetry(at=1.0, links={"inet": DOWN}), degraded.states)
    assert down.enforcement.steer == {"voice": "lte"}
