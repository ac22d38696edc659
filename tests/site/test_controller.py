"""The site controller with the simulated data plane: converges, heals drift offline, resumes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from edgewise.model.desired import DesiredState
from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.journal import Journal
from edgewise.site.reconcile import ObservedState, plan
from edgewise.site.sdwan.sections import WanFault
from edgewise.site.uplink import CentralTrust, Uplink, enroll
from tests.site.central import running_central
from tests.site.fakes import FakeChannel, eventually

pytestmark = pytest.mark.anyio

WAITS_FOR_DPI = "layer-7 classes wait for the DPI classifier"
FAST = ControllerSettings(
    reconcile_interval=0.1, first_poll_max_delay=0.0, backoff_base=0.01, backoff_cap=0.05, seed=1
)


def document(*service_ids: str, action: str = "drop") -> dict[str, Any]:
    return {
        "services": [
            {
                "id": sid, "name": sid, "tenant": "t1",
                "vnfs": [
                    {"name": "fw", "function": "firewall", "config": {"default_action": action}},
                    {"name": "nat", "function": "nat", "config": {"mode": "masquerade"}},
                ],
                "chain": ["fw", "nat"],
            }
            for sid in service_ids
        ]
    }  # fmt: skip


async def converged(driver: SimDriver, revision: int, doc: dict[str, Any]) -> bool:
    return plan(DesiredState.from_document(revision, doc), await driver.observe()) == []


def controller(
    path: Path, driver: SimDriver, channel: FakeChannel | None, settings: ControllerSettings = FAST
) -> SiteController:
    return SiteController(Journal.open(path / "journal.db"), driver, channel, settings)


async def test_it_converges_and_reports(tmp_path: Path) -> None:
    channel, driver = FakeChannel(), SimDriver(latency=0.002, seed=3)
    channel.publish(document("s1", "s2"))
    async with controller(tmp_path, driver, channel) as site:
        await eventually(lambda: converged(driver, 1, document("s1", "s2")))
        await eventually(lambda: any(b["revision"] == 1 for b in channel.bodies("status")))
        channel.publish(document("s2", action="accept"))
        await eventually(lambda: converged(driver, 2, document("s2", action="accept")))
        await eventually(lambda: site.journal.applied_revision() == 2)
        await eventually(lambda: site.journal.pending_count() == 0)
    status = [b for b in channel.bodies("status") if b["revision"] == 2][-1]
    assert status["state"] == "converged"
    assert status["services"][0]["state"] == "ready"
    assert channel.closed
    assert driver.closed
    assert 2 in channel.polled  # it polls with the revision it holds


async def test_drift_is_repaired_on_the_timer_while_the_central_is_down(tmp_path: Path) -> None:
    channel, driver = FakeChannel(), SimDriver()
    channel.publish(document("s1"))
    async with controller(tmp_path, driver, channel) as site:
        await eventually(lambda: site.journal.applied_revision() == 1)
        channel.up = False
        driver.break_vnf("s1", "fw")
        driver.remove_vnf("s1", "nat")
        await eventually(lambda: converged(driver, 1, document("s1")))
        events = [i.body for i in site.journal.pending() if i.kind == "event"]
        assert {(e["event"], e["vnf"], e["reason"]) for e in events} >= {
            ("vnf-repaired", "fw", "unhealthy"),
            ("vnf-repaired", "nat", "missing"),
        }
        channel.up = True  # the outbox drains once the central answers again
        await eventually(lambda: site.journal.pending_count() == 0)
    assert any(b["event"] == "vnf-repaired" for b in channel.bodies("event"))


async def test_a_restarted_controller_resumes_from_its_journal_alone(tmp_path: Path) -> None:
    channel, driver = FakeChannel(), SimDriver()
    channel.publish(document("s1", "s2"))
    async with controller(tmp_path, driver, channel) as site:
        await eventually(lambda: site.journal.applied_revision() == 1)
    rebooted = SimDriver()  # the data plane is gone; the central is unreachable
    async with controller(tmp_path, rebooted, None) as site:
        await eventually(lambda: converged(rebooted, 1, document("s1", "s2")), within=1.0)
        assert site.desired is not None
        assert site.desired.revision == 1
        assert site.journal.pending_count() > 0  # status and repairs wait in the outbox


async def test_a_bad_document_is_refused_and_the_last_good_state_kept(tmp_path: Path) -> None:
    channel, driver = FakeChannel(), SimDriver()
    channel.publish(document("s1"))
    async with controller(tmp_path, driver, channel) as site:
        await eventually(lambda: site.journal.applied_revision() == 1)
        channel.publish({"services": [{"id": "s9", "vnfs": "nope"}]})
        await eventually(
            lambda: any(b["event"] == "document-rejected" for b in channel.bodies("event"))
        )
        await eventually(lambda: channel.polled.count(2) >= 2)  # no refetch of revision 2
        assert await converged(driver, 1, document("s1"))
        assert site.desired is not None
        assert site.desired.revision == 1
        await eventually(
            lambda: any(
                str(b["error"]).startswith("revision 2 rejected") for b in channel.bodies("status")
            )
        )
    [event] = [b for b in channel.bodies("event") if b["event"] == "document-rejected"]
    assert any(p.startswith("services[0].name: missing") for p in event["problems"])


async def test_failures_are_reported_once_and_retried(tmp_path: Path) -> None:
    channel, driver = FakeChannel(), SimDriver(failure_rate=1.0)
    channel.publish(document("s1"))
    async with controller(tmp_path, driver, channel) as site:
        await eventually(lambda: site.passes >= 5)
        await eventually(lambda: site.journal.pending_count() == 0)
        driver.failure_rate = 0.0
        await eventually(lambda: site.journal.applied_revision() == 1)
        await eventually(lambda: site.journal.pending_count() == 0)
    failed = [b for b in channel.bodies("event") if b["event"] == "change-failed"]
    assert [b["op"] for b in failed] == ["create-service"]
    states = [b["state"] for b in channel.bodies("status")]
    assert states[0] == "degraded"
    assert states[-1] == "converged"


async def test_end_to_end_over_the_real_channel(tmp_path: Path) -> None:
    async with running_central(tmp_path) as central:
        central.tokens.add("t")
        central.hold = 0.2
        identity = await enroll(
            central.url, "t", CentralTrust(ca_pem=central.ca.pem.decode()),
            key_path=tmp_path / "k", cert_path=tmp_path / "c", ca_path=tmp_path / "a",
        )  # fmt: skip
        journal = Journal.open(tmp_path / "journal.db")
        journal.save_identity(identity)
        driver = SimDriver()
        central.publish(document("s1"))
        async with SiteController(journal, driver, Uplink(identity), FAST):
            await eventually(lambda: converged(driver, 1, document("s1")))
            await eventually(
                lambda: any(
                    r["kind"] == "status" and r["body"]["state"] == "converged"
                    for r in central.reports.values()
                )
            )


class CountingDriver(SimDriver):
    """The sim driver, with data-plane counters the test sets."""

    def __init__(self) -> None:
        super().__init__()
        self.packets = 0

    async def observe(self) -> ObservedState:
        seen = await super().observe()
        counted = {"rules": {"rule-0": {"packets": self.packets, "bytes": 60 * self.packets}}}
        return replace(seen, services=tuple(
            replace(s, vnfs=tuple(replace(v, counters=counted if v.name == "fw" else {})
                                  for v in s.vnfs))
            for s in seen.services))  # fmt: skip


async def test_counters_go_up_when_they_change_at_most_every_interval(tmp_path: Path) -> None:
    channel, driver = FakeChannel(), CountingDriver()
    channel.publish(document("s1"))
    settings = replace(FAST, counters_interval=0.3)
    async with controller(tmp_path, driver, channel, settings) as site:
        await eventually(lambda: site.journal.applied_revision() == 1)
        driver.packets = 5
        await eventually(lambda: any(
            b["services"].get("s1", {}).get("fw", {}).get("rules", {}).get("rule-0", {})
            .get("packets") == 5 for b in channel.bodies("counters")))  # fmt: skip
        sent = len(channel.bodies("counters"))
        await asyncio.sleep(1.0)  # ~10 passes, nothing changed: nothing more to say
        assert len(channel.bodies("counters")) == sent
        driver.packets = 9
        await eventually(lambda: channel.bodies("counters")[-1]["services"]["s1"]["fw"]
                         ["rules"]["rule-0"] == {"packets": 9, "bytes": 540})  # fmt: skip
        assert "nat" not in channel.bodies("counters")[-1]["services"]["s1"]


class ProbedDriver(SimDriver):
    """The sim driver, with one link probed and its figures never changing."""

    async def observe(self) -> ObservedState:
        seen = await super().observe()
        probes = {"mpls": {"state": "up", "latency_ms": 12.0, "loss_percent": 0.0}}
        return replace(seen, wan=replace(seen.wan, counters={"probes": probes}))


async def test_probed_links_are_sampled_at_a_cadence_changed_or_not(tmp_path: Path) -> None:
    """The history wants a sample a minute: figures that never change still go out every
    `links_sample_interval`, and never more often than `counters_interval`."""
    channel = FakeChannel()
    channel.publish(document("s1"))
    settings = replace(FAST, counters_interval=0.2, links_sample_interval=0.3)
    async with controller(tmp_path, ProbedDriver(), channel, settings) as site:
        await eventually(lambda: site.journal.applied_revision() == 1)
        await eventually(lambda: bool(channel.bodies("counters")))
        first = len(channel.bodies("counters"))
        await asyncio.sleep(1.5)  # 15 passes: ~7 samples at 0.2 s (no change between them)
        sent = channel.bodies("counters")[first:]
        assert 2 <= len(sent) <= 8, len(sent)  # none before: nothing changed
        assert all(b["wan"]["probes"]["mpls"]["latency_ms"] == 12.0 for b in sent)


class WanDriver(SimDriver):
    """The sim driver, with the WAN's counters and notes as the linux driver reports them."""

    async def observe(self) -> ObservedState:
        seen = await super().observe()
        counters = {"routes": {"voice": ["mpls"]}, "classes": {"voice": {"mpls": {"packets": 4}}}}
        wan = replace(seen.wan, counters=counters, notes=(WAITS_FOR_DPI,))
        return replace(seen, wan=wan)


async def test_the_wan_is_reported(tmp_path: Path) -> None:
    channel, driver = FakeChannel(), WanDriver()
    doc = {**document("s1"), "links": [{"name": "mpls", "kind": "mpls", "interface": "mpls0",
                                        "gateway": "198.51.100.1"}]}  # fmt: skip
    channel.publish(doc)
    async with controller(tmp_path, driver, channel) as site:
        await eventually(lambda: site.journal.applied_revision() == 1)
        await eventually(lambda: any("wan" in b for b in channel.bodies("counters")))
        counters = next(b for b in channel.bodies("counters") if "wan" in b)
        assert counters["wan"]["routes"] == {"voice": ["mpls"]}
        assert "@wan" not in counters["services"]
        status = channel.bodies("status")[-1]
        assert status["wan"]["notes"] == [WAITS_FOR_DPI]
        assert status["wan"]["faults"] == []


async def test_a_wan_repair_is_reported_as_such(tmp_path: Path) -> None:
    channel, driver = FakeChannel(), SimDriver()
    doc = {**document("s1"), "links": [{"name": "mpls", "kind": "mpls", "interface": "mpls0",
                                        "gateway": "198.51.100.1"}]}  # fmt: skip
    channel.publish(doc)
    async with controller(tmp_path, driver, channel) as site:
        await eventually(lambda: site.journal.applied_revision() == 1)
        driver.break_wan(WanFault.STEERING_BROKEN)
        await eventually(lambda: any(b["event"] == "wan-repaired"
                                     for b in channel.bodies("event")))  # fmt: skip
        event = next(b for b in channel.bodies("event") if b["event"] == "wan-repaired")
        assert event["op"] == "update-steering"
        assert event["service"] == "@site"
        assert event["faults"] == ["steering-broken"]
