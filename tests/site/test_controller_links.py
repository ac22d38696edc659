"""The controller reports a driver's link state changes as `link-state` events in the outbox,
within the limit per link (a flapping link does not flood it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.health.events import LinkEvent, LinkEventLimiter
from edgewise.site.journal import Journal
from tests.site.fakes import FakeChannel, eventually

pytestmark = pytest.mark.anyio
FAST = ControllerSettings(
    reconcile_interval=0.1, first_poll_max_delay=0.0, backoff_base=0.01, backoff_cap=0.05, seed=1
)


class LinkDriver(SimDriver):
    """The sim driver, telling the link state changes a test puts in `changes`."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: asyncio.Queue[LinkEvent] = asyncio.Queue()

    async def link_events(self) -> AsyncIterator[LinkEvent]:
        while True:
            yield await self.changes.get()


def change(n: int) -> LinkEvent:
    old, new = ("up", "down") if n % 2 == 0 else ("down", "up")
    return LinkEvent("mpls", old, new, f"change {n}", "2026-01-01T00:00:00+00:00",
                     {"latency_ms": 9.5, "sent": 10, "lost": 1})  # fmt: skip


async def test_link_state_changes_go_out_as_events_within_the_limit(tmp_path: Path) -> None:
    channel, driver = FakeChannel(), LinkDriver()
    site = SiteController(Journal.open(tmp_path / "journal.db"), driver, channel, FAST)
    site.link_limiter = LinkEventLimiter(burst=2, refill_s=0.5)
    async with site:
        for n in range(41):  # a flapping link: 41 changes at once, ending down
            driver.changes.put_nowait(change(n))

        def told() -> list[dict[str, object]]:
            return [b for b in channel.bodies("event") if b["event"] == "link-state"]

        await eventually(lambda: len(told()) >= 3)
        first = told()[0]
        assert (first["link"], first["from"], first["to"]) == ("mpls", "up", "down")
        assert first["figures"] == {"latency_ms": 9.5, "sent": 10, "lost": 1}
        await asyncio.sleep(0.3)
        bodies = told()
        assert len(bodies) == 3  # the burst (2), then the latest held one after 0.5 s
        assert (bodies[2]["to"], bodies[2]["heldBack"]) == ("down", 38)


async def test_a_status_after_a_link_state_change_carries_the_links(tmp_path: Path) -> None:
    channel, driver = FakeChannel(), LinkDriver()
    site = SiteController(Journal.open(tmp_path / "journal.db"), driver, channel, FAST)
    links = [{"name": "mpls", "kind": "mpls", "interface": "mpls0", "gateway": "192.0.2.1"}]
    channel.publish({"services": [], "links": links})
    async with site:

        def statuses() -> list[dict[str, object]]:
            return [b for b in channel.bodies("status") if "links" in b]

        await eventually(lambda: len(statuses()) >= 1)
        assert statuses()[-1]["links"] == [{"name": "mpls", "state": "down"}]
        before = len(statuses())
        driver.changes.put_nowait(change(1))  # mpls: down -> up
        await eventually(lambda: len(statuses()) > before)
