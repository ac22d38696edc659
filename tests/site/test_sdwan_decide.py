"""The steering decision by tables: failover at once, failback after the hold time, never a
flap faster than it; SLA profiles, spread, tenants and default traffic (a fake clock: numbers)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from edgewise.model.steering import AppClass, SlaProfile, Steering, SteeringPolicy
from edgewise.site.sdwan.decide import DEFAULT, Decision, Route, decide, policy_key
from edgewise.site.sdwan.health import DOWN, UP, LinkHealth, LinkState, carrier_health

LINKS = ("mpls", "inet", "lte")
VOICE = AppClass("voice", protocol="udp", ports=(5060,))
BULK = AppClass("bulk", protocol="tcp", ports=(873,))
REALTIME = SlaProfile("realtime", max_latency_ms=150, max_loss_percent=1)
STEERING = Steering(
    classes=(VOICE, BULK),
    sla_profiles=(REALTIME,),
    policies=(
        SteeringPolicy("voice", ("mpls", "inet"), sla="realtime"),
        SteeringPolicy("bulk", ("lte", "inet"), spread=False),
        SteeringPolicy("bulk", ("inet", "lte"), spread=True, tenant="acme"),
    ),
    default_links=("inet", "mpls"),
    hold_s=30,
)
SLOW = LinkHealth(LinkState.UP, latency_ms=400, loss_percent=0)
LOSSY = LinkHealth(LinkState.UP, latency_ms=20, loss_percent=5)
FINE = LinkHealth(LinkState.UP, latency_ms=20, loss_percent=0)
DEGRADED = LinkHealth(LinkState.DEGRADED)
Health = dict[str, LinkHealth]
ALL_UP: Health = {"mpls": FINE, "inet": UP, "lte": UP}


def run(steps: Sequence[tuple[float, Health]]) -> list[dict[str, tuple[str, ...]]]:
    """The links of each key after each (time, health) step, deciding from the previous one."""
    decision: Decision | None = None
    seen = []
    for now, health in steps:
        decision = decide(STEERING, LINKS, health, decision, now)
        seen.append({key: route.links for key, route in decision.routes.items()})
    return seen


def voice(steps: Sequence[tuple[float, Health]]) -> list[tuple[str, ...]]:
    return [routes["voice"] for routes in run(steps)]


CASES = [
    pytest.param([(0, ALL_UP)], [("mpls",)], id="first-link-that-keeps-the-sla"),
    pytest.param([(0, {**ALL_UP, "mpls": DOWN})], [("inet",)], id="first-is-down"),
    pytest.param([(0, {**ALL_UP, "mpls": SLOW})], [("inet",)], id="first-breaks-latency"),
    pytest.param([(0, {**ALL_UP, "mpls": LOSSY})], [("inet",)], id="first-breaks-loss"),
    pytest.param([(0, {**ALL_UP, "mpls": DEGRADED})], [("inet",)], id="degraded-keeps-no-sla"),
    pytest.param(
        [(0, {"mpls": SLOW, "inet": SLOW, "lte": UP})],
        [("mpls",)],
        id="none-keeps-the-sla-first-up-of-its-list",
    ),
    pytest.param(
        [(0, {"mpls": DOWN, "inet": DOWN, "lte": UP})], [("lte",)], id="then-any-up-link"
    ),
    pytest.param([(0, {})], [()], id="nothing-up-nowhere"),
    pytest.param(
        [(0, ALL_UP), (1, {**ALL_UP, "mpls": DOWN})],
        [("mpls",), ("inet",)],
        id="failover-at-once",
    ),
    pytest.param(
        [(0, ALL_UP), (1, {**ALL_UP, "mpls": DOWN}), (2, ALL_UP), (31, ALL_UP), (32, ALL_UP)],
        [("mpls",), ("inet",), ("inet",), ("inet",), ("mpls",)],
        id="failback-after-the-hold-time",
    ),
    pytest.param(
        [(0, ALL_UP), (1, {**ALL_UP, "mpls": DOWN}), (2, ALL_UP), (20, {**ALL_UP, "mpls": SLOW}),
         (21, ALL_UP), (50, ALL_UP), (51, ALL_UP)],
        [("mpls",), ("inet",), ("inet",), ("inet",), ("inet",), ("inet",), ("mpls",)],
        id="a-break-in-the-better-link-restarts-the-hold",
    ),
    pytest.param(
        [(0, ALL_UP), (1, {**ALL_UP, "mpls": DOWN}), (2, {**ALL_UP, "inet": DOWN, "mpls": DOWN}),
         (3, {**ALL_UP, "mpls": DOWN})],
        [("mpls",), ("inet",), ("lte",), ("lte",)],
        id="failover-twice-then-hold-before-going-back",
    ),
    pytest.param(
        [(0, {**ALL_UP, "mpls": SLOW}), (1, ALL_UP), (2, ALL_UP)],
        [("inet",), ("mpls",), ("mpls",)],
        id="a-link-never-left-is-taken-at-once",
    ),
    pytest.param(
        [(0, ALL_UP), (1, {**ALL_UP, "mpls": SLOW}), (2, ALL_UP), (31, ALL_UP), (32, ALL_UP)],
        [("mpls",), ("inet",), ("inet",), ("inet",), ("mpls",)],
        id="a-link-left-for-its-sla-waits-the-hold",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("steps", "expected"), CASES)
def test_voice(steps: list[tuple[float, Health]], expected: list[tuple[str, ...]]) -> None:
    assert voice(steps) == expected


def test_no_flap_under_a_link_that_comes_and_goes() -> None:
    """A link flapping every 5 s: one failover per loss, never a failback within the hold."""
    steps = [(float(t), ALL_UP if t % 10 < 5 else {**ALL_UP, "mpls": DOWN}) for t in range(120)]
    routes = voice(steps)
    moves = [t for t in range(1, len(routes)) if routes[t] != routes[t - 1]]
    assert moves == [5]  # failed over, and the flapping link never holds 30 s


def test_spread_tenant_and_default() -> None:
    first, after = run([(0, ALL_UP), (1, {**ALL_UP, "lte": DOWN})])
    assert first["bulk"] == ("lte",)
    assert first[policy_key(STEERING.policies[2])] == ("inet", "lte")
    assert first[DEFAULT] == ("inet",)
    assert after["bulk"] == ("inet",)
    assert after["bulk@acme"] == ("inet",)


def test_a_pending_failback_says_when_to_decide_again() -> None:
    decision = decide(STEERING, LINKS, ALL_UP, None, -1)
    decision = decide(STEERING, LINKS, {**ALL_UP, "mpls": DOWN}, decision, 0)
    assert decision.due(30) is None
    decision = decide(STEERING, LINKS, ALL_UP, decision, 10)
    assert decision.routes["voice"] == Route(("inet",), 0, ("mpls",), 10, frozenset({"mpls"}))
    assert decision.due(30) == 40


def test_carrier_alone() -> None:
    assert carrier_health(True) == UP
    assert not carrier_health(False).usable
    assert UP.keeps(REALTIME)
