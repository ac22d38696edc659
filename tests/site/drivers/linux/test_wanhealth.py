"""Link health wired into the linux driver, over the fake kernel and a fake prober: the links
section mapped onto link health's settings, the prober started, restarted when the links change
and stopped, its verdicts and figures moving classes at once (an SLA broken while the link
stays up too), and the links' figures and state changes reported."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.fakekernel import FakeKernel
from edgewise.site.drivers.linux.probetable import PROBES_TABLE
from edgewise.site.drivers.linux.probing import LinkHealth as Probed
from edgewise.site.drivers.linux.probing import Measured, Report
from edgewise.site.drivers.linux.wanhealth import health_settings
from edgewise.site.drivers.linux.wanmarks import link_mark
from edgewise.site.drivers.linux.wanplan import LinkPlan
from edgewise.site.health import (
    Figures,
    LinkHealthSettings,
    LinkState,
    ProbeCounts,
    Transition,
)
from edgewise.site.health.events import LinkEvent
from tests.site.drivers.linux.conftest import SITE
from tests.site.drivers.linux.kit import reconcile
from tests.site.drivers.linux.test_wan import LINKS, elements, uplinks

pytestmark = pytest.mark.anyio
__all__ = ["uplinks"]  # a fixture
VOICE = 0x10
STEERING: dict[str, Any] = {
    "classes": [{"name": "voice", "protocol": "udp", "ports": [5060]}],
    "sla_profiles": [{"name": "rt", "max_latency_ms": 100, "max_loss_percent": 5}],
    "policies": [{"class": "voice", "links": ["mpls", "inet"], "sla": "rt"}],
    "default_links": ["inet", "mpls"],
    "hold_s": 1,
}
QUIET = Figures(None, None, None, 0, window_full=False)


@dataclass
class FakeProber:
    namespace: str
    links: list[LinkHealthSettings]
    report: Report
    measured: Measured
    running: bool = False
    stopped: bool = False
    links_now: dict[str, Probed] = field(default_factory=dict)

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running, self.stopped = False, True

    def snapshot(self) -> Mapping[str, Probed]:
        return dict(self.links_now)

    def went(
        self, link: str, new: LinkState, figures: Figures = QUIET, old: LinkState = LinkState.DOWN
    ) -> None:
        """The prober's thread: `link` changed state."""
        self.links_now[link] = probed(link, new, figures)
        self.report(Transition(link, old, new, "test", time.monotonic()))

    def measures(self, link: str, state: LinkState, figures: Figures, misses: int = 0) -> None:
        self.links_now[link] = probed(link, state, figures, misses)
        self.measured(self.links_now[link])


def probed(link: str, state: LinkState, figures: Figures, misses: int = 0) -> Probed:
    return Probed(link, state, True, figures, ProbeCounts(100, 98, 2, 0), misses)


def latency(ms: float, loss: float | None = None) -> Figures:
    return Figures(loss, ms, 1.0, 400 if loss is not None else 20, window_full=loss is not None)


@dataclass
class Probers:
    made: list[FakeProber] = field(default_factory=list)

    def __call__(
        self,
        namespace: str,
        links: Sequence[LinkHealthSettings],
        report: Report,
        measured: Measured,
    ) -> FakeProber:
        prober = FakeProber(namespace, list(links), report, measured)
        self.made.append(prober)
        return prober

    @property
    def now(self) -> FakeProber:
        return self.made[-1]


@pytest.fixture
def probers() -> Probers:
    return Probers()


@pytest.fixture
async def driver(
    uplinks: FakeKernel, probers: Probers, tmp_path: Path
) -> AsyncIterator[LinuxDriver]:
    made = LinuxDriver(SITE, tmp_path / "run", kernel=uplinks, probers=probers)
    try:
        yield made
    finally:
        await made.close()


def site(
    revision: int = 1, links: list[dict[str, Any]] | None = None, **steering: Any
) -> DesiredState:
    document: dict[str, Any] = {"services": [], "links": LINKS if links is None else links}
    document["steering"] = {**STEERING, **steering}
    return DesiredState.from_document(revision, document)


def test_the_links_section_maps_onto_link_health() -> None:
    mpls, inet = site().links
    settings = health_settings(LinkPlan(mpls, 1, mpls.gateway))
    assert settings is not None
    assert (settings.name, settings.interface, settings.fwmark, settings.table) == (
        "mpls", "mpls0", link_mark(1), link_mark(1),
    )  # fmt: skip
    assert settings.probe.targets == (IPv4Address("198.51.100.1"),)  # the gateway
    assert (settings.probe.protocol, settings.probe.healthy_interval) == ("icmp", 0.15)
    assert settings.probe.fast_interval == 0.02
    t = settings.thresholds
    assert (t.down_after, t.up_after, t.failback_hold, t.loss_pct) == (4, 5, 10, 5)
    assert (t.latency_ms, t.jitter_ms) == (150, 30)
    # a DHCP link probes the gateway it learnt; with none known, it is not probed at all
    learnt = health_settings(LinkPlan(inet, 2, IPv4Address("203.0.113.1")))
    assert learnt is not None
    assert learnt.probe.targets == (IPv4Address("203.0.113.1"),)
    assert health_settings(LinkPlan(inet, 2, None)) is None
    given = [{**LINKS[0], "probe": {"protocol": "udp", "port": 7, "targets": ["192.0.2.10"],
              "interval_ms": 200, "hold_s": 3, "latency_ms": 80}}, LINKS[1]]  # fmt: skip
    custom = health_settings(LinkPlan(site(links=given).links[0], 1, None))
    assert custom is not None
    assert custom.probe.targets == (IPv4Address("192.0.2.10"),)
    assert (custom.probe.protocol, custom.probe.port, custom.probe.healthy_interval) == (
        "udp", 7, 0.2,
    )  # fmt: skip
    assert (custom.thresholds.failback_hold, custom.thresholds.latency_ms) == (3, 80)


async def test_the_prober_runs_for_the_links_and_restarts_when_they_change(
    driver: LinuxDriver, probers: Probers
) -> None:
    await reconcile(driver, site())
    prober = probers.now
    assert prober.running
    assert prober.namespace == SITE.wan_netns
    assert [(s.name, s.fwmark) for s in prober.links] == [("mpls", link_mark(1)),
                                                           ("inet", link_mark(2))]  # fmt: skip
    await reconcile(driver, site(2))  # nothing changed: the same prober
    assert len(probers.made) == 1
    faster = [{**LINKS[0], "probe": {"interval_ms": 100}}, LINKS[1]]
    await reconcile(driver, site(3, links=faster))
    assert prober.stopped
    assert probers.now.running
    assert probers.now.links[0].probe.healthy_interval == 0.1
    await reconcile(driver, DesiredState.from_document(4, {"services": []}))  # links removed
    assert not probers.now.running
    assert probers.now.stopped


async def test_closing_the_driver_stops_the_prober(
    uplinks: FakeKernel, probers: Probers, tmp_path: Path
) -> None:
    made = LinuxDriver(SITE, tmp_path / "run", kernel=uplinks, probers=probers)
    await reconcile(made, site())
    await made.close()
    assert probers.now.stopped


async def test_a_dead_link_moves_the_class_at_once(
    uplinks: FakeKernel, driver: LinuxDriver, probers: Probers
) -> None:
    await reconcile(driver, site())
    mpls, inet = link_mark(1), link_mark(2)
    prober = probers.now
    prober.went("mpls", LinkState.UP, latency(10))
    prober.went("inet", LinkState.UP, latency(20))
    assert elements(uplinks)[VOICE] == mpls
    prober.went("mpls", LinkState.DOWN, old=LinkState.UP)  # silent blackout: probes lost
    assert elements(uplinks)[VOICE] == inet  # from the prober's thread, no pass needed
    seen = await driver.observe()
    assert seen.wan.counters["health"]["mpls"] == {"state": "down"}
    assert seen.wan.counters["routes"]["voice"] == ["inet"]


async def test_a_class_leaves_a_link_that_breaks_its_sla_and_comes_back_after_the_hold(
    uplinks: FakeKernel, driver: LinuxDriver, probers: Probers
) -> None:
    await reconcile(driver, site())
    mpls, inet = link_mark(1), link_mark(2)
    prober = probers.now
    prober.went("mpls", LinkState.UP, latency(10))
    prober.went("inet", LinkState.UP, latency(20))
    # mpls stays up (its own threshold is 150 ms) but breaks voice's SLA (100 ms)
    prober.measures("mpls", LinkState.UP, latency(120))
    assert elements(uplinks)[VOICE] == inet
    assert elements(uplinks)[0] == inet  # default traffic has no SLA: it stays
    prober.measures("mpls", LinkState.UP, latency(12))  # mended: voice waits the hold (1 s)
    assert elements(uplinks)[VOICE] == inet
    assert not await driver.tick()
    await asyncio.sleep(1.1)
    assert await driver.tick()
    assert elements(uplinks)[VOICE] == mpls
    # loss counts once the loss window is full, and breaks the SLA above 5%
    prober.measures("mpls", LinkState.UP, latency(12, loss=4.0))
    assert elements(uplinks)[VOICE] == mpls
    prober.measures("mpls", LinkState.UP, latency(12, loss=6.5))
    assert elements(uplinks)[VOICE] == inet


async def test_nothing_is_fed_before_a_links_first_verdict_unless_it_answers_nothing(
    uplinks: FakeKernel, driver: LinuxDriver, probers: Probers
) -> None:
    await reconcile(driver, site())
    mpls, inet = link_mark(1), link_mark(2)
    prober = probers.now
    events: list[LinkEvent] = []
    driver_health = driver._health
    driver_health.listener = events.append
    # a link starts down in link health ("not probed yet"): steering keeps going by carrier
    prober.measures("mpls", LinkState.DOWN, latency(10), misses=1)
    assert elements(uplinks)[VOICE] == mpls
    prober.measures("mpls", LinkState.DOWN, QUIET, misses=4)  # down_after misses: dead
    assert elements(uplinks)[VOICE] == inet
    assert [(e.link, e.old, e.new) for e in events] == [("mpls", "unknown", "down")]
    assert "since probing started" in events[0].reason


async def test_link_events_and_figures_are_reported(driver: LinuxDriver, probers: Probers) -> None:
    await reconcile(driver, site())
    prober = probers.now
    events = driver.link_events()
    first = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)
    try:
        prober.went("mpls", LinkState.UP, latency(10))
        event = await asyncio.wait_for(first, 1)
        assert (event.link, event.old, event.new) == ("mpls", "unknown", "up")
        assert event.figures["latency_ms"] == 10.0
        nxt = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0)
        prober.went("mpls", LinkState.DEGRADED, latency(160), old=LinkState.UP)
        event = await asyncio.wait_for(nxt, 1)
        assert (event.old, event.new) == ("up", "degraded")
        body = event.body()
        assert body["event"] == "link-state"
        assert (body["link"], body["from"], body["to"]) == ("mpls", "up", "degraded")
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    probes = (await driver.observe()).wan.counters["probes"]
    assert probes["mpls"]["state"] == "degraded"
    assert probes["mpls"]["latency_ms"] == 160.0
    assert (probes["mpls"]["sent"], probes["mpls"]["lost"]) == (100, 2)
    assert probes["mpls"]["since"]
    assert probes["mpls"]["reason"] == "test"


async def test_a_link_with_nowhere_to_probe_is_a_note(
    uplinks: FakeKernel, driver: LinuxDriver, probers: Probers
) -> None:
    with uplinks.open_netlink(SITE.wan_netns) as nl:  # the DHCP client's route is gone
        for route in nl.table_routes(254):
            nl.delete_route(route)
    await reconcile(driver, site())
    assert [s.name for s in probers.now.links] == ["mpls"]
    notes = (await driver.observe()).wan.notes
    assert any("link inet: not probed: no probe target and no gateway" in n for n in notes)


async def test_probes_are_kept_out_of_conntrack_before_the_prober_starts(
    uplinks: FakeKernel, driver: LinuxDriver, probers: Probers
) -> None:
    started_with: list[list[Any] | None] = []

    def listed() -> list[Any] | None:
        return uplinks.open_nftables(SITE.wan_netns).list_table("ip", PROBES_TABLE)

    real_start = FakeProber.start

    def start(self: FakeProber) -> None:
        started_with.append(listed())
        real_start(self)

    FakeProber.start = start  # type: ignore[method-assign]
    try:
        await reconcile(driver, site())
    finally:
        FakeProber.start = real_start  # type: ignore[method-assign]
    assert started_with[0] is not None  # the table was there when probing began
    rules = [item["rule"] for item in listed() or [] if "rule" in item]
    assert [r["comment"] for r in rules] == ["mpls", "inet"]
    assert {"notrack": None} in rules[0]["expr"]
    await reconcile(driver, DesiredState.from_document(2, {"services": []}))
    assert listed() is None


async def test_a_prober_that_cannot_start_is_a_note_and_is_tried_again(
    uplinks: FakeKernel, driver: LinuxDriver, probers: Probers
) -> None:
    def refuse(self: FakeProber) -> None:
        raise DataPlaneError("namespace gone", code="no-namespace")

    real_start = FakeProber.start
    FakeProber.start = refuse  # type: ignore[method-assign]
    try:
        await reconcile(driver, site())
        notes = (await driver.observe()).wan.notes
    finally:
        FakeProber.start = real_start  # type: ignore[method-assign]
    assert "link health: the prober did not start: namespace gone" in notes
    seen = await driver.observe()  # the next read starts it
    assert probers.now.running
    assert not any("did not start" in n for n in seen.wan.notes)


async def test_what_the_prober_tells_as_it_starts_is_not_lost(
    uplinks: FakeKernel, driver: LinuxDriver, probers: Probers
) -> None:
    def start_and_tell(self: FakeProber) -> None:  # its thread reports before start returns
        self.running = True
        self.went("mpls", LinkState.UP, latency(10))

    events: list[LinkEvent] = []
    driver._health.listener = events.append
    real_start = FakeProber.start
    FakeProber.start = start_and_tell  # type: ignore[method-assign]
    try:
        await reconcile(driver, site())
    finally:
        FakeProber.start = real_start  # type: ignore[method-assign]
    assert [(e.link, e.new) for e in events] == [("mpls", "up")]
    assert events[0].figures["latency_ms"] == 10.0
    assert (await driver.observe()).wan.counters["health"]["mpls"]["latency_ms"] == 10.0
