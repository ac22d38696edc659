"""The linux driver's drift watch, on real kernel objects: the site controller repairs at once.

The controllers here have a reconcile timer of a minute: only the drift watch can wake them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers import WatchesDrift
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.netns import namespace_inode
from edgewise.site.drivers.linux.processes import Supervisor
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.journal import Journal
from tests.site.drivers.chains import FIREWALL, converge, desired, vcpe, with_program
from tests.site.drivers.netlab import (
    INTERNET_HOST,
    Lab,
    connects,
    has_ruleset,
    in_ns,
    ip,
    link_up,
    prober,
)
from tests.site.fakes import eventually

pytestmark = pytest.mark.anyio
SLOW_TIMER = ControllerSettings(reconcile_interval=60.0)
REPAIR_WITHIN_S = 2.0


@contextlib.asynccontextmanager
async def drift_seen(driver: LinuxDriver) -> AsyncIterator[list[str]]:
    """What the driver's drift watch reports while the block runs."""
    found: list[str] = []

    async def collect() -> None:
        async for drift in driver.drift_events():
            found.append(drift)  # noqa: PERF401 - seen while it runs

    task = asyncio.create_task(collect())
    await eventually(lambda: driver._host.watch.running)
    try:
        yield found
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def break_chain(
    lab: Lab, runtime: Path, namespaces: dict[str, str], breakage: str
) -> Callable[[], bool]:
    """Breaks the chain; returns the check that the broken part is mended: rebuilt (a namespace
    deleted), restarted (a program killed), or in place (a link set down, a ruleset flushed)."""
    fw, app, nat = namespaces["fw"], namespaces["app"], namespaces["nat"]
    if breakage == "program killed":
        status = Supervisor(runtime).status(app)
        assert status is not None
        assert status.pid is not None
        os.kill(status.pid, signal.SIGKILL)
        return lambda: (
            (now := Supervisor(runtime).status(app)) is not None
            and now.pid
            not in (
                None,
                status.pid,
            )
        )
    if breakage == "namespace deleted":
        inode = namespace_inode(fw)
        ip("netns", "del", fw)
        return lambda: namespace_inode(fw) not in (None, inode)
    inode = namespace_inode(nat)
    if breakage == "link set down":
        leg = next(name for name in lab.links(nat) if name.endswith("l"))
        ip("-n", nat, "link", "set", leg, "down")
        return lambda: link_up(nat, leg) and namespace_inode(nat) == inode
    in_ns(nat, "nft", "flush", "ruleset")
    return lambda: has_ruleset(nat) and namespace_inode(nat) == inode


@pytest.mark.parametrize(
    "breakage", ["namespace deleted", "link set down", "ruleset flushed", "program killed"]
)
async def test_the_controller_repairs_drift_at_once(
    lab: Lab, driver: LinuxDriver, tmp_path: Path, breakage: str
) -> None:
    site = SiteController(Journal.open(tmp_path / "journal.db"), driver, None, SLOW_TIMER)
    async with site:
        site.accept(1, {"services": [with_program("svc-1")]})
        await eventually(lambda: site.journal.applied_revision() == 1)
        attachment = await driver.attachment("svc-1")
        assert attachment is not None
        host = lab.add_host("h1", attachment)
        lab.serve(lab.internet, 8080)
        view = (await driver.view("svc-1")).services["svc-1"]
        namespaces = {name: vnf.namespace for name, vnf in view.vnfs.items()}
        with prober(host.namespace) as pool:
            assert pool.submit(connects, INTERNET_HOST, 8080, 1.0).result()
            await asyncio.sleep(0.2)  # the status pass after the build
            passes = site.passes

            start = time.monotonic()
            renewed = break_chain(lab, driver.runtime_dir, namespaces, breakage)

            async def repaired() -> bool:
                probe = pool.submit(connects, INTERNET_HOST, 8080, 0.05)
                return renewed() and await asyncio.wrap_future(probe)

            await eventually(repaired, within=REPAIR_WITHIN_S)
            took = time.monotonic() - start
            await eventually(lambda: site.passes > passes)  # a pass woken by the drift watch

    assert took < REPAIR_WITHIN_S


async def test_the_drivers_own_changes_are_not_drift(lab: Lab, driver: LinuxDriver) -> None:
    assert isinstance(driver, WatchesDrift)
    async with drift_seen(driver) as found:
        await converge(driver, desired(1, vcpe("svc-1"), with_program("svc-2")))
        only_8081 = {"default_action": "drop", "rules": [{"protocol": "tcp", "port": 8081}]}
        await converge(driver, desired(2, vcpe("svc-1", only_8081), with_program("svc-2")))
        await converge(driver, desired(3, vcpe("svc-1", FIREWALL)))  # svc-2 and its program go
        await converge(driver, desired(4))
        await driver.observe()  # the bridges go at the next call
        await asyncio.sleep(0.5)  # the kernel finishes deleting

    assert found == []


async def test_a_deleted_namespace_is_released_and_reported(lab: Lab, driver: LinuxDriver) -> None:
    await converge(driver, desired(1, vcpe("svc-1")))
    fw = (await driver.view("svc-1")).services["svc-1"].vnfs["fw"].namespace
    watch = driver._host.watch
    async with drift_seen(driver) as found:
        await eventually(lambda: fw in watch.watched)
        ip("netns", "del", fw)
        await eventually(lambda: found == [f"namespace {fw} deleted"], within=1.0)
        assert fw not in watch.watched  # its sockets no longer hold the namespace

    assert watch.watched == []
    assert not watch.running


def test_drift_watching_is_optional() -> None:
    assert not isinstance(SimDriver(), WatchesDrift)


async def test_while_watching_observe_reads_again_only_what_changed(
    lab: Lab, driver: LinuxDriver
) -> None:
    state = desired(1, vcpe("svc-1"), vcpe("svc-2"), vcpe("svc-3"))
    await converge(driver, state)
    async with drift_seen(driver) as found:
        await driver.observe()  # a full read: the watch has just started
        first = dict(driver._cache.entries)
        nat = (await driver.view("svc-2")).services["svc-2"].vnfs["nat"].namespace
        leg = next(name for name in lab.links(nat) if name.endswith("l"))
        ip("-n", nat, "link", "set", leg, "down")
        await eventually(lambda: any(nat in drift for drift in found), within=1.0)

        observed = await driver.observe()
        again = driver._cache.entries

    health = {(s.id, v.name): v.healthy for s in observed.services for v in s.vnfs}
    assert [key for key, healthy in health.items() if not healthy] == [("svc-2", "nat")]
    assert {n for n in first if again.get(n) is not first[n]} == {nat}  # only it was read again
