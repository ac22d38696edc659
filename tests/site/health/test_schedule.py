"""When probes go: never more than the cap in any sliding second (property test), fast after a
miss, slow again after an answer, and at the healthy pace once the link is down."""

from __future__ import annotations

import itertools
import random
from ipaddress import IPv4Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgewise.site.health import LinkHealthSettings, LinkMonitor, LinkState, ProbeSettings
from edgewise.site.health.schedule import CAP_SPAN, ProbeScheduler
from tests.site.health.simulated import SimulatedLink, lossy

TARGET = (IPv4Address("192.0.2.1"),)


def at_most_per_second(sends: list[float], cap: int) -> bool:
    """No window [t, t + 1 s) holds more than `cap` sends: send i+cap is >= send i + 1 s."""
    return all(sends[i + cap] >= sends[i] + CAP_SPAN for i in range(len(sends) - cap))


@settings(max_examples=200, deadline=None)
@given(
    healthy=st.floats(0.1, 2.0),
    fast=st.floats(0.005, 0.1),
    cap=st.integers(1, 10),
    steps=st.lists(st.tuples(st.booleans(), st.floats(0.0, 0.3)), max_size=300),
)
def test_the_scheduler_never_exceeds_the_cap(
    healthy: float, fast: float, cap: int, steps: list[tuple[bool, float]]
) -> None:
    scheduler = ProbeScheduler(healthy, max(fast, 0.005), cap)
    now, sends = 0.0, []
    for go_fast, wait in steps:
        scheduler.fast = go_fast
        now = max(now + wait, scheduler.next_send())  # a late loop sends later, never earlier
        scheduler.sent(now)
        sends.append(now)
    assert at_most_per_second(sends, cap)


@settings(max_examples=40, deadline=None)
@given(loss=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1), rtt=st.floats(0.0, 0.5))
def test_a_monitored_link_never_exceeds_ten_per_second(loss: float, seed: int, rtt: float) -> None:
    """The whole monitor (fast after misses, timeouts, down and back) over any lossy path."""
    settings_ = LinkHealthSettings("a", "wan0", 1, 100, ProbeSettings(TARGET))
    link = SimulatedLink(LinkMonitor(settings_), lossy(random.Random(seed), loss, rtt))
    link.run_until(30.0)
    assert at_most_per_second(link.sends, 10)
    assert len(link.sends) <= 10 * 30 + 10


def test_a_late_send_is_refused() -> None:
    scheduler = ProbeScheduler(0.15, 0.02, 10)
    scheduler.sent(0.0)
    with pytest.raises(ValueError, match="break the schedule"):
        scheduler.sent(0.1)


def gaps(link: SimulatedLink, start: float, end: float) -> list[float]:
    sends = [s for s in link.sends if start <= s <= end]
    return [round(b - a, 6) for a, b in itertools.pairwise(sends)]


def test_fast_after_one_miss_slow_after_the_answer() -> None:
    lost = {3.0}  # the probe sent at 3.0 s is lost, every other answered in 1 ms
    settings_ = LinkHealthSettings("a", "wan0", 1, 100, ProbeSettings(TARGET))
    link = SimulatedLink(LinkMonitor(settings_), lambda at: None if round(at, 6) in lost else 0.001)
    link.run_until(2.9)
    link.run_until(6.0)
    assert link.monitor.state is LinkState.UP
    assert round(3.0, 6) in [round(s, 6) for s in link.sends]
    # before: every 150 ms; the miss is known at its 30 ms timeout and the next probe goes at
    # once; it is answered, so the one after goes 150 ms later again
    assert set(gaps(link, 2.0, 3.0)) == {0.15}
    assert gaps(link, 2.95, 3.5)[:3] == [0.03, 0.15, 0.15]


def test_fast_until_down_then_the_healthy_pace() -> None:
    settings_ = LinkHealthSettings("a", "wan0", 1, 100, ProbeSettings(TARGET))
    link = SimulatedLink(LinkMonitor(settings_), lambda at: None if at >= 2.99 else 0.001)
    link.run_until(6.0)
    down = [c.at for c in link.changes if c.new is LinkState.DOWN]
    assert len(down) == 1
    # the miss at 3.03 sends at once, then every 20 ms until the fourth miss: down
    assert gaps(link, 2.95, down[0]) == [0.03, 0.02, 0.02]
    assert set(gaps(link, down[0], 6.0)) == {0.15}
