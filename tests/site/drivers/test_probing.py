"""The WAN link prober on real kernel objects (root): two links from a WAN namespace to two ISP
namespaces, faults set on the far side. A silent blackout is down within 300 ms, carrier loss
at once, random loss degraded, and each link back only after the failback hold; the
`unreachable default` of a link's table keeps a dead link's probes from leaking out of the
other link (and without it they do)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import pytest

from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.probing import LinkProber
from edgewise.site.health import (
    LinkHealthSettings,
    LinkState,
    ProbeSettings,
    Thresholds,
    Transition,
)
from tests.site.drivers.netlab import can_build_namespaces, in_ns
from tests.site.drivers.probing_lab import (
    ECHO_PORT,
    TARGET_A,
    TARGET_B,
    LabLink,
    ProbeLab,
    probe_lab,
)

SKIP = can_build_namespaces()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=SKIP or "")
BLACKOUT_BUDGET_S = 0.300
HOLD_S = 2.0
QUICK = Thresholds(failback_hold=HOLD_S)  # the defaults, with a short hold for the tests


@dataclass
class Seen:
    """State changes reported by a prober, with the time they were reported."""

    changes: list[tuple[float, Transition]] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, change: Transition) -> None:
        with self._cond:
            self.changes.append((time.monotonic(), change))
            self._cond.notify_all()

    def wait(self, link: str, state: LinkState, since: float, within: float) -> float | None:
        """When `link` was reported in `state` after `since`, waiting `within` s at most."""
        deadline = time.monotonic() + within
        with self._cond:
            while True:
                for at, change in self.changes:
                    if at >= since and change.link == link and change.new is state:
                        return at
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def of(self, link: str, since: float = 0.0) -> list[LinkState]:
        with self._cond:
            return [c.new for at, c in self.changes if c.link == link and at >= since]


def link(lab_link: LabLink, name: str, target: object, **probe: object) -> LinkHealthSettings:
    thresholds = probe.pop("thresholds", QUICK)
    assert isinstance(thresholds, Thresholds)
    return LinkHealthSettings(
        name,
        lab_link.name,
        lab_link.fwmark,
        lab_link.table,
        ProbeSettings((target,), **probe),  # type: ignore[arg-type]
        thresholds,
    )


@pytest.fixture
def lab() -> Iterator[ProbeLab]:
    with probe_lab() as made:
        yield made


def running(
    lab: ProbeLab, links: list[LinkHealthSettings]
) -> tuple[LinkProber, Seen, Callable[[], None]]:
    seen = Seen()
    prober = LinkProber(lab.wan, links, seen)
    prober.start()
    return prober, seen, prober.stop


def both_up(seen: Seen) -> None:
    assert seen.wait("a", LinkState.UP, 0, 5.0) is not None
    assert seen.wait("b", LinkState.UP, 0, 5.0) is not None


def test_silent_blackout_is_down_within_300_ms_and_back_after_the_hold(lab: ProbeLab) -> None:
    prober, seen, stop = running(lab, [link(lab.a, "a", TARGET_A), link(lab.b, "b", TARGET_B)])
    try:
        both_up(seen)
        time.sleep(1.0)
        start = time.monotonic()
        lab.blackout(lab.a)  # far side drops everything; carrier stays up
        down = seen.wait("a", LinkState.DOWN, start, 2.0)
        assert down is not None, seen.changes
        assert down - start <= BLACKOUT_BUDGET_S, f"detected after {1000 * (down - start):.0f} ms"
        assert prober.snapshot()["a"].carrier is True
        assert seen.of("a", start)[0] is LinkState.DOWN
        assert seen.of("b") == [LinkState.UP]
        restored = time.monotonic()
        lab.clear_fault(lab.a)
        up = seen.wait("a", LinkState.UP, restored, HOLD_S + 3.0)
        assert up is not None
        assert up - restored >= HOLD_S  # not before the failback hold
        assert seen.of("a", start) == [LinkState.DOWN, LinkState.UP]  # no flap on the way
    finally:
        stop()


def carrier_cut(lab: ProbeLab) -> tuple[float, Seen]:
    """Cuts link a's carrier on the far end: how long until a was reported down, and all seen."""
    _, seen, stop = running(lab, [link(lab.a, "a", TARGET_A), link(lab.b, "b", TARGET_B)])
    try:
        both_up(seen)
        time.sleep(0.5)
        start = time.monotonic()
        lab.carrier(lab.a, up=False)  # `ip link set down` on the far end (includes spawning ip)
        down = seen.wait("a", LinkState.DOWN, start, 2.0)
        assert down is not None
        reasons = [c.reason for at, c in seen.changes if at >= start and c.link == "a"]
        assert reasons == ["carrier lost"]  # from netlink, not from probes missed in a row
        restored = time.monotonic()
        lab.carrier(lab.a, up=True)
        up = seen.wait("a", LinkState.UP, restored, HOLD_S + 3.0)
        assert up is not None
        assert up - restored >= HOLD_S
        assert seen.of("b") == [LinkState.UP]
        return down - start, seen
    finally:
        stop()


def test_carrier_loss_is_down_at_once_and_back_after_the_hold(lab: ProbeLab) -> None:
    took, _ = carrier_cut(lab)
    assert took < 0.05  # the kernel's notification (plus spawning `ip`)


def test_carrier_loss_batched_by_the_kernel_is_seen_at_the_first_miss() -> None:
    """Same ifindex on both ends, as a physical NIC: the kernel's linkwatch may announce the
    loss up to a second late; the prober asks for the carrier at the first miss instead."""
    with probe_lab(same_index=True) as lab:
        took, _ = carrier_cut(lab)
    probe = ProbeSettings((TARGET_A,))
    assert took <= probe.healthy_interval + probe.timeout_min + 0.05


def test_random_loss_is_degraded_and_back_after_the_hold(lab: ProbeLab) -> None:
    # a short loss window so that it fills in seconds; misses in a row are not the point here
    lossy = replace(QUICK, window=40, latency_window=10, down_after=10)
    _, seen, stop = running(lab, [link(lab.a, "a", TARGET_A, thresholds=lossy)])
    try:
        assert seen.wait("a", LinkState.UP, 0, 5.0) is not None
        start = time.monotonic()
        lab.loss(lab.a, 30)
        degraded = seen.wait("a", LinkState.DEGRADED, start, 20.0)
        assert degraded is not None, seen.changes
        restored = time.monotonic()
        lab.clear_fault(lab.a)
        up = seen.wait("a", LinkState.UP, restored, 20.0)
        assert up is not None
        assert up - restored >= HOLD_S
        assert seen.of("a", start) == [LinkState.DEGRADED, LinkState.UP]
    finally:
        stop()


def test_udp_echo_probes(lab: ProbeLab) -> None:
    lab.serve_udp_echo()
    links = [
        link(lab.a, "a", TARGET_A, protocol="udp", port=ECHO_PORT),
        link(lab.b, "b", TARGET_B, protocol="udp", port=ECHO_PORT + 1),  # nobody answers there
    ]
    prober, seen, stop = running(lab, links)
    try:
        assert seen.wait("a", LinkState.UP, 0, 5.0) is not None
        lab.count_probes(lab.a, TARGET_A)
        time.sleep(1.0)
        health = prober.snapshot()
        assert health["a"].counts.answered >= 5
        out, _, back, _ = lab.counted(lab.a)
        assert back >= out - 1 >= 4  # answered from the probed address (NAT on the way expects it)
        assert health["b"].state is LinkState.DOWN
        assert health["b"].counts.answered == 0
        start = time.monotonic()
        lab.blackout(lab.a)
        down = seen.wait("a", LinkState.DOWN, start, 2.0)
        assert down is not None
        assert down - start <= BLACKOUT_BUDGET_S
    finally:
        stop()


def test_datagram_icmp_sockets_where_ping_group_range_allows(lab: ProbeLab) -> None:
    in_ns(lab.wan, "sysctl", "-qw", "net.ipv4.ping_group_range=0 0")
    prober, seen, stop = running(lab, [link(lab.a, "a", TARGET_A)])
    try:
        assert seen.wait("a", LinkState.UP, 0, 5.0) is not None
        assert [x.socket.raw for x in prober._links] == [False]
    finally:
        stop()


def leaked_answers(lab: ProbeLab) -> tuple[int, int, int]:
    """Cuts link a's carrier and counts for 1.5 s: (a's probes answered, a's probes lost,
    packets to a's target through b's ISP)."""
    prober, seen, stop = running(lab, [link(lab.a, "a", TARGET_A), link(lab.b, "b", TARGET_B)])
    try:
        both_up(seen)
        lab.count_probes(lab.b, TARGET_A)
        lab.carrier(lab.a, up=False)
        assert seen.wait("a", LinkState.DOWN, 0, 1.0) is not None
        before = prober.snapshot()
        packets_before, *_ = lab.counted(lab.b)
        time.sleep(1.5)
        after = prober.snapshot()
        packets, *_ = lab.counted(lab.b)
        answered = after["a"].counts.answered - before["a"].counts.answered
        lost = after["a"].counts.lost - before["a"].counts.lost
        return answered, lost, packets - packets_before
    finally:
        stop()


def test_without_unreachable_default_a_dead_links_probes_leak_out_of_the_other() -> None:
    with probe_lab(unreachable_default=False) as lab:
        answered, lost, leaked = leaked_answers(lab)
    # link a has no carrier, yet its probes are answered: they left by link b (main table)
    assert answered >= 5
    assert lost == 0
    assert leaked >= answered


def test_with_unreachable_default_a_dead_links_probes_stay_lost(lab: ProbeLab) -> None:
    answered, lost, leaked = leaked_answers(lab)
    assert answered == 0
    assert lost >= 5  # refused at once by the kernel (ENETUNREACH): a miss each
    assert leaked == 0


@pytest.mark.slow
def test_no_flap_in_20_s_of_two_percent_loss(lab: ProbeLab) -> None:
    """The smoke version of the 10-minute run (benchmarks/probe_overhead.py --flap-minutes 10):
    2% of the probes dropped on both links, the default thresholds (SLA loss 5%)."""
    links = [
        link(lab.a, "a", TARGET_A, thresholds=Thresholds()),
        link(lab.b, "b", TARGET_B, thresholds=Thresholds()),
    ]
    prober, seen, stop = running(lab, links)
    try:
        both_up(seen)
        start = time.monotonic()
        lab.loss(lab.a, 2)
        lab.loss(lab.b, 2)
        time.sleep(20.0)
        assert seen.of("a", start) == []
        assert seen.of("b", start) == []
        counts = prober.snapshot()["a"].counts
        assert counts.sent >= 100  # the healthy pace: about 6.7 probes/s
    finally:
        stop()


def test_a_failing_consumer_does_not_stop_the_prober(lab: ProbeLab) -> None:
    calls: list[Transition] = []

    def broken(change: Transition) -> None:
        calls.append(change)
        raise RuntimeError("consumer bug")

    prober = LinkProber(lab.wan, [link(lab.a, "a", TARGET_A)], broken)
    prober.start()
    try:
        deadline = time.monotonic() + 5.0
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        lab.blackout(lab.a)
        while len(calls) < 2 and time.monotonic() < deadline + 2.0:
            time.sleep(0.05)
        assert [c.new for c in calls] == [LinkState.UP, LinkState.DOWN]
    finally:
        prober.stop()


def test_a_missing_namespace_is_a_clear_error() -> None:
    settings = LinkHealthSettings("a", "wa", 1, 101, ProbeSettings((TARGET_A,)))
    prober = LinkProber("ewprobe-no-such-namespace", [settings], lambda _: None)
    with pytest.raises(DataPlaneError, match="namespace ewprobe-no-such-namespace does not exist"):
        prober.start()
