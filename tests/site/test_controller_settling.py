"""A VNF coming up (its programs not ready yet) makes the controller look again every quarter
second, and the status that shows it settled goes out then, not a reconcile interval later."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest

from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.journal import Journal
from edgewise.site.reconcile import ObservedService, ObservedState
from tests.site.fakes import FakeChannel, eventually

pytestmark = pytest.mark.anyio
SLOW = ControllerSettings(
    reconcile_interval=30, first_poll_max_delay=0.0, backoff_base=0.01, backoff_cap=0.05, seed=1
)
SERVICE = {"id": "s1", "name": "s1", "tenant": "t", "chain": ["fw"],
           "vnfs": [{"name": "fw", "function": "firewall", "config": {}}]}  # fmt: skip


class ComingUp(SimDriver):
    """The sim driver whose VNFs say they are coming up until `ready` is set."""

    ready = False

    async def observe(self) -> ObservedState:
        state = await super().observe()
        services = tuple(
            ObservedService(s.id, tuple(
                dataclasses.replace(v, settling=not self.ready,
                                    counters={"state": "ready" if self.ready else "starting"})
                for v in s.vnfs), s.chain)
            for s in state.services
        )  # fmt: skip
        return ObservedState(services, state.wan)


def vnf_states(channel: FakeChannel) -> list[object]:
    return [s["services"][0]["vnfs"][0]["counters"]["state"]
            for s in channel.bodies("status") if s.get("services")]  # fmt: skip


async def test_the_status_goes_out_when_a_vnf_settles(tmp_path: Path) -> None:
    channel, driver = FakeChannel(), ComingUp()
    channel.publish({"services": [SERVICE]})
    async with SiteController(Journal.open(tmp_path / "journal.db"), driver, channel, SLOW):
        await eventually(lambda: vnf_states(channel) == ["starting"])
        driver.ready = True
        began = time.monotonic()
        await eventually(lambda: vnf_states(channel)[-1:] == ["ready"], within=5)
        assert time.monotonic() - began < 2  # the reconcile interval is 30 s
        passes = len(vnf_states(channel))
        await asyncio.sleep(0.6)  # settled: no more quick passes, no more statuses
    assert len(vnf_states(channel)) == passes
