"""The site reports its overlay peers' tunnels in its status (`overlay_peers`, as the central's
alarms read it): a new status when a tunnel goes up or down, none while nothing changes, and an
empty one once the peers are gone (the central clears what it showed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest

from edgewise.central.services import alarms_reports
from edgewise.central.services.alarm_terms import Kind
from edgewise.central.services.link_reports import status_problems
from edgewise.model.desired import DesiredState
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.reconcile import ObservedState
from edgewise.site.reporting import status_body
from edgewise.site.sdwan.sections import ObservedWan
from tests.site.drivers.overlay.docs import overlay, peer
from tests.site.drivers.overlay.test_overlay_plan import KEY_B, KEY_C, LINKS
from tests.site.fakes import FakeChannel, eventually
from tests.site.test_controller import FAST, controller, document

pytestmark = pytest.mark.anyio


class PeersDriver(SimDriver):
    """The sim driver, with peers as the linux driver's observe reports them."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: dict[str, dict[str, str]] = {}

    async def observe(self) -> ObservedState:
        seen = await super().observe()
        return replace(seen, wan=replace(seen.wan, overlay_peers=self.peers))


async def test_a_status_when_a_tunnel_goes_down_and_when_the_peers_go(tmp_path: Path) -> None:
    channel = FakeChannel()
    channel.publish(document("s1"))
    driver = PeersDriver()
    driver.peers = {"t1": {"b": "up", "c": "up"}}
    async with controller(tmp_path, driver, channel, FAST) as site:
        await eventually(lambda: site.journal.applied_revision() == 1)
        await eventually(lambda: bool(channel.bodies("status")))
        assert channel.bodies("status")[-1]["overlay_peers"] == {"t1": {"b": "up", "c": "up"}}
        count = len(channel.bodies("status"))
        await anyio.sleep(0.5)  # five passes, nothing changed: no new status
        assert len(channel.bodies("status")) == count
        driver.peers = {"t1": {"b": "up", "c": "down"}}
        await eventually(lambda: len(channel.bodies("status")) > count)
        assert channel.bodies("status")[-1]["overlay_peers"] == {"t1": {"b": "up", "c": "down"}}
        driver.peers = {}
        await eventually(lambda: channel.bodies("status")[-1].get("overlay_peers") == {})


async def test_no_overlays_no_field(tmp_path: Path) -> None:
    channel = FakeChannel()
    channel.publish(document("s1"))
    async with controller(tmp_path, SimDriver(), channel, FAST) as site:
        await eventually(lambda: site.journal.applied_revision() == 1)
        await eventually(lambda: bool(channel.bodies("status")))
        assert "overlay_peers" not in channel.bodies("status")[-1]


def test_the_central_reads_the_overlay_peers_the_site_sends() -> None:
    """The contract: the body the site builds passes the central's intake checks, and a peer
    `down` in it is an OVERLAY_PEER_DOWN at the central (a peer `up` is none)."""
    peers_of = [
        peer("site-b", KEY_B, "10.99.0.2", [], [("mpls", "198.51.100.9", 51820)]),
        peer("site-c", KEY_C, "10.99.0.3", [], [("mpls", "198.51.100.10", 51820)]),
    ]
    desired = DesiredState.from_document(1, {"services": [], "links": LINKS, "overlays": [
        overlay("tenant-1", "10.99.0.1/24", [("mpls", 51820)], peers_of)]})  # fmt: skip
    peers = {"tenant-1": {"site-c": "down", "site-b": "up"}}
    observed = ObservedState((), ObservedWan(overlay_peers=peers))
    body = status_body(desired, observed, {}, set(), None)
    assert body["overlay_peers"] == {"tenant-1": {"site-b": "up", "site-c": "down"}}
    assert list(status_problems(body, "body")) == []
    known = alarms_reports._Known(tenants={"site-a": "tenant-1"}, overlays={"tenant-1": "ov-1"})
    reported = alarms_reports.Reported("site-a", datetime.now(UTC), body)
    kinds, faults = alarms_reports.status_faults(reported, known, None)
    assert Kind.OVERLAY_PEER_DOWN in kinds
    tunnels = [f.peer_site_id for f in faults if f.kind is Kind.OVERLAY_PEER_DOWN]
    assert tunnels == ["site-c"]
