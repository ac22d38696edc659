"""The site reports its overlay peers' tunnels in its status (`overlay_peers`, as the central's
alarms read it): a new status when a tunnel goes up or down, none while nothing changes, and an
empty one once the peers are gone (the central clears what it showed)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from edgewise.site.drivers.sim import SimDriver
from edgewise.site.reconcile import ObservedState
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
