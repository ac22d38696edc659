"""The site controller with a driver that tells of drift: it repairs at once, not on its timer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from edgewise.site.drivers import WatchesDrift
from edgewise.site.drivers.sim import SimDriver
from tests.site.fakes import eventually
from tests.site.test_controller import FAST, controller, converged, document

pytestmark = pytest.mark.anyio
SLOW_TIMER = replace(FAST, reconcile_interval=60.0)


class DriftingSim(SimDriver):
    """The simulated data plane, with drift announced through `announce`."""

    def __init__(self) -> None:
        super().__init__()
        self.announced: asyncio.Queue[str] = asyncio.Queue()
        self.watching = False

    def announce(self, drift: str) -> None:
        self.announced.put_nowait(drift)

    async def drift_events(self) -> AsyncIterator[str]:
        self.watching = True
        try:
            while True:
                yield await self.announced.get()
        finally:
            self.watching = False


class BrokenWatch(SimDriver):
    async def drift_events(self) -> AsyncIterator[str]:
        raise RuntimeError("no inotify here")
        yield "never"  # pragma: no cover - makes this an async generator


async def test_a_drift_event_wakes_the_reconciler_before_its_timer(tmp_path: Path) -> None:
    driver = DriftingSim()
    assert isinstance(driver, WatchesDrift)
    async with controller(tmp_path, driver, None, SLOW_TIMER) as site:
        site.accept(1, document("s1"))
        await eventually(lambda: site.journal.applied_revision() == 1)
        passes = site.passes
        driver.remove_vnf("s1", "nat")
        driver.break_vnf("s1", "fw")
        driver.announce("nat gone")
        driver.announce("fw broken")

        await eventually(lambda: converged(driver, 1, document("s1")), within=1.0)
        await asyncio.sleep(0.1)
        assert site.passes == passes + 1  # two events, one pass (the timer is a minute away)
        assert driver.watching
    assert not driver.watching  # stopping the controller ends the watch


async def test_while_changes_fail_drift_waits_for_the_timer(tmp_path: Path) -> None:
    driver = DriftingSim()
    driver.failure_rate = 1.0
    async with controller(tmp_path, driver, None, SLOW_TIMER) as site:
        site.accept(1, document("s1"))
        await eventually(lambda: site.passes == 1)
        for _ in range(5):  # a failing change could wake itself: it must not spin
            driver.announce("something changed")
        await asyncio.sleep(0.2)
        assert site.passes == 1


async def test_a_broken_watch_leaves_the_timer(tmp_path: Path) -> None:
    driver = BrokenWatch()
    async with controller(tmp_path, driver, None) as site:
        site.accept(1, document("s1"))
        await eventually(lambda: site.journal.applied_revision() == 1)
        driver.remove_vnf("s1", "nat")
        await eventually(lambda: converged(driver, 1, document("s1")))  # FAST: a 0.1 s timer
