"""The overlays through the linux driver over the fake kernel and the in-memory overlay: the
devices built from the desired state, rules and rp_filter set, keys made and reported, drift
healed, what is no longer wanted removed, and the tunnels moving with a link's carrier."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import AsyncGenerator, AsyncIterator
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any, cast

import pytest

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.fakekernel import FakeKernel
from edgewise.site.drivers.linux.overlays import OVERLAY_MARK, OVERLAY_TABLE, device_name
from edgewise.site.drivers.linux.wanmarks import link_mark
from edgewise.site.drivers.linux.wireguard.fake import FakeOverlay
from edgewise.site.drivers.linux.wireguard.keys import public_key_of, read_private_key
from edgewise.site.health.events import LinkEvent
from edgewise.site.reconcile import ChangeOp, ChangeReason, plan
from edgewise.site.sdwan.health import LinkHealth, LinkState
from edgewise.site.sdwan.sections import WanFault
from tests.site.drivers.linux.conftest import SITE
from tests.site.drivers.linux.kit import reconcile
from tests.site.drivers.linux.test_wan import LINKS, uplinks
from tests.site.drivers.linux.test_wanhealth import STEERING, Probers
from tests.site.drivers.overlay.docs import a_public_key, overlay, peer

pytestmark = pytest.mark.anyio
__all__ = ["uplinks"]  # the fixture, shared with test_wan
KEY_B = a_public_key()
MPLS = device_name(SITE.prefix, "t1", "mpls")
INET = device_name(SITE.prefix, "t1", "inet")
B_PREFIXES = [IPv4Network("10.99.0.2/32"), IPv4Network("192.168.2.0/24")]


def site(*overlays: dict[str, Any], revision: int = 1) -> DesiredState:
    document: dict[str, Any] = {"services": [], "links": LINKS, "overlays": list(overlays)}
    return DesiredState.from_document(revision, document)


def t1(**extra: Any) -> dict[str, Any]:
    b = peer("b", KEY_B, "10.99.0.2", ["192.168.2.0/24"],
             [("mpls", "198.51.100.9", 51820), ("inet", "203.0.113.9", 51821)])  # fmt: skip
    return overlay("t1", "10.99.0.1/24", [("mpls", 51820), ("inet", 51821)], [b], **extra)


@pytest.fixture
def fake_overlay() -> FakeOverlay:
    return FakeOverlay()


@pytest.fixture
async def overlay_driver(
    uplinks: FakeKernel, fake_overlay: FakeOverlay, tmp_path: Path
) -> AsyncIterator[LinuxDriver]:
    made = LinuxDriver(SITE, tmp_path / "run", kernel=uplinks, overlay=fake_overlay)
    try:
        yield made
    finally:
        await made.close()


def routed(fake: FakeOverlay) -> dict[IPv4Network, str]:
    return {prefix: device for (ns, table, prefix), (device, _) in fake.routes.items()
            if (ns, table) == (SITE.wan_netns, OVERLAY_TABLE)}  # fmt: skip


async def test_the_overlay_is_built_and_its_key_reported(
    uplinks: FakeKernel, fake_overlay: FakeOverlay, overlay_driver: LinuxDriver, tmp_path: Path
) -> None:
    state = site(t1())
    results = await reconcile(overlay_driver, state)
    assert [(r.change.op, r.changed, r.failed) for r in results] == [
        (ChangeOp.UPDATE_LINKS, True, False),
        (ChangeOp.UPDATE_OVERLAYS, True, False),
        (ChangeOp.UPDATE_STEERING, True, False),
    ]
    assert fake_overlay.devices() == sorted([MPLS, INET])
    mpls = fake_overlay.running[MPLS][0]
    assert mpls.fwmark == OVERLAY_MARK | link_mark(1)
    assert fake_overlay.running[INET][0].fwmark == OVERLAY_MARK | link_mark(2)
    underlay = fake_overlay.underlays[SITE.wan_netns]
    assert (underlay.table, underlay.mark, sorted(underlay.devices)) == (
        OVERLAY_TABLE, OVERLAY_MARK, sorted([MPLS, INET]))  # fmt: skip
    sysctls = uplinks.space(SITE.wan_netns).sysctls
    assert sysctls["net.ipv4.conf.all.rp_filter"] == "0"
    assert sysctls["net.ipv4.conf.mpls0.rp_filter"] == "0"
    assert sysctls[f"net.ipv4.conf.{MPLS}.rp_filter"] == "0"
    assert routed(fake_overlay) == dict.fromkeys(B_PREFIXES, MPLS)  # b's first endpoint
    key_file = mpls.private_key_file
    assert key_file.is_relative_to(tmp_path / "run")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    seen = await overlay_driver.observe()
    public = public_key_of(read_private_key(key_file))
    assert seen.wan.overlay_keys == {"t1": {"public_key": public}}
    assert plan(state, seen) == []
    await reconcile(overlay_driver, site(t1(), revision=2))  # the same key again
    assert (await overlay_driver.observe()).wan.overlay_keys["t1"]["public_key"] == public


async def test_drift_is_healed(fake_overlay: FakeOverlay, overlay_driver: LinuxDriver) -> None:
    state = site(t1())
    await reconcile(overlay_driver, state)
    fake_overlay.kill(MPLS)  # its wireguard-go died, or its link was deleted with it
    assert routed(fake_overlay) == {}  # the routes went with the link
    seen = await overlay_driver.observe()
    assert WanFault.OVERLAYS_BROKEN in seen.wan.faults
    assert any(f"device {MPLS} is not running" in note for note in seen.wan.notes)
    assert [(c.op, c.reason) for c in plan(state, seen)] == [
        (ChangeOp.UPDATE_OVERLAYS, ChangeReason.UNHEALTHY)
    ]
    await reconcile(overlay_driver, state)
    assert MPLS in fake_overlay.devices()
    assert routed(fake_overlay) == dict.fromkeys(B_PREFIXES, MPLS)  # routed again
    assert plan(state, await overlay_driver.observe()) == []


async def test_what_is_no_longer_wanted_is_removed(
    fake_overlay: FakeOverlay, overlay_driver: LinuxDriver, tmp_path: Path
) -> None:
    other = overlay("t2", "10.98.0.1/24", [("inet", 51900)], [])
    await reconcile(overlay_driver, site(t1(), other))
    t2 = device_name(SITE.prefix, "t2", "inet")
    assert t2 in fake_overlay.devices()
    keys = tmp_path / "run" / "overlay-keys"
    assert sorted(p.name for p in keys.iterdir()) == ["t1.key", "t2.key"]
    # t1 rides inet only now; t2 is gone with its key
    only_inet = overlay(
        "t1",
        "10.99.0.1/24",
        [("inet", 51821)],
        [peer("b", KEY_B, "10.99.0.2", ["192.168.2.0/24"], [("inet", "203.0.113.9", 51821)])],
    )
    state = site(only_inet, revision=2)
    await reconcile(overlay_driver, state)
    assert fake_overlay.devices() == [INET]
    assert routed(fake_overlay) == dict.fromkeys(B_PREFIXES, INET)
    assert sorted(p.name for p in keys.iterdir()) == ["t1.key"]
    assert list((await overlay_driver.observe()).wan.overlay_keys) == ["t1"]
    none = DesiredState.from_document(3, {"services": [], "links": LINKS})
    results = await reconcile(overlay_driver, none)
    assert [(r.change.op, r.change.reason) for r in results] == [
        (ChangeOp.UPDATE_OVERLAYS, ChangeReason.UNWANTED)
    ]
    assert fake_overlay.devices() == []
    assert fake_overlay.underlays == {}
    assert routed(fake_overlay) == {}
    assert list(keys.iterdir()) == []
    assert plan(none, await overlay_driver.observe()) == []


async def until(check: Any, seconds: float = 2.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within the time given")


async def test_tunnels_follow_the_carrier_and_the_probes(
    uplinks: FakeKernel, fake_overlay: FakeOverlay, overlay_driver: LinuxDriver
) -> None:
    await reconcile(overlay_driver, site(t1()))
    assert set(routed(fake_overlay).values()) == {MPLS}
    uplinks.set_carrier(SITE.wan_netns, "mpls0", carrier=False)
    await until(lambda: set(routed(fake_overlay).values()) == {INET})
    uplinks.set_carrier(SITE.wan_netns, "mpls0", carrier=True)
    await until(lambda: set(routed(fake_overlay).values()) == {MPLS})
    assert await overlay_driver.set_link_health("mpls", LinkHealth(LinkState.DOWN))
    assert set(routed(fake_overlay).values()) == {INET}
    seen = await overlay_driver.observe()
    assert seen.wan.counters["overlays"]["moves"] == 3
    assert plan(site(t1()), seen) == []  # a move is no drift


async def test_a_rotation_due_is_prepared_and_reported(
    fake_overlay: FakeOverlay, overlay_driver: LinuxDriver
) -> None:
    await reconcile(overlay_driver, site(t1(key_rotation_h=1)))
    key_file = fake_overlay.running[MPLS][0].private_key_file
    public = public_key_of(read_private_key(key_file))
    assert (await overlay_driver.observe()).wan.overlay_keys == {"t1": {"public_key": public}}
    made = time.time() - 2 * 3600  # the key is two hours old
    os.utime(key_file, (made, made))
    keys = (await overlay_driver.observe()).wan.overlay_keys["t1"]
    assert keys["public_key"] == public  # still in use: the peers know it
    assert keys["next_public_key"] not in (None, public)
    assert (await overlay_driver.observe()).wan.overlay_keys["t1"] == keys  # prepared once


def told(links: dict[str, dict[str, Any]], ends: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """t1 with a rotation's fields on its links and on b's endpoints, by link."""
    entry = t1(key_rotation_h=1)
    for link in entry["links"]:
        link.update(links.get(link["link"], {}))
    for end in entry["peers"][0]["endpoints"]:
        end.update(ends.get(end["via"], {}))
    return entry


def running_key(fake: FakeOverlay, device: str) -> str:
    return public_key_of(fake.running[device][1])


async def test_a_rotation_moves_link_by_link_and_promotes_at_the_end(
    fake_overlay: FakeOverlay, overlay_driver: LinuxDriver
) -> None:
    await reconcile(overlay_driver, site(t1(key_rotation_h=1)))
    key_file = fake_overlay.running[MPLS][0].private_key_file
    made = time.time() - 2 * 3600
    os.utime(key_file, (made, made))
    keys = (await overlay_driver.observe()).wan.overlay_keys["t1"]
    old, new = keys["public_key"], keys["next_public_key"]
    # drain mpls, then switch it: its device takes the next key, inet's keeps the key
    await reconcile(overlay_driver, site(told({"mpls": {"draining": True}}, {}), revision=2))
    assert set(routed(fake_overlay).values()) == {INET}
    switched = {"mpls": {"draining": True, "public_key": new}}
    await reconcile(overlay_driver, site(told(switched, {}), revision=3))
    assert (running_key(fake_overlay, MPLS), running_key(fake_overlay, INET)) == (new, old)
    assert set(routed(fake_overlay).values()) == {INET}
    assert (await overlay_driver.observe()).wan.overlay_keys["t1"] == keys  # not promoted yet
    # the peer rotates over inet meanwhile: that tunnel drained, its device's peer key the new
    key_b2 = a_public_key()
    peer_side = {"inet": {"draining": True, "public_key": key_b2}}
    await reconcile(
        overlay_driver, site(told({"mpls": {"public_key": new}}, peer_side), revision=4)
    )
    assert set(routed(fake_overlay).values()) == {MPLS}
    assert [p.public_key for p in fake_overlay.running[INET][0].peers] == [key_b2]
    assert [p.public_key for p in fake_overlay.running[MPLS][0].peers] == [KEY_B]
    # every link told the next key: the site promotes it, the old key is gone
    both = {"mpls": {"public_key": new}, "inet": {"public_key": new}}
    await reconcile(overlay_driver, site(told(both, {}), revision=5))
    assert (running_key(fake_overlay, MPLS), running_key(fake_overlay, INET)) == (new, new)
    assert fake_overlay.running[MPLS][0].private_key_file == key_file
    assert sorted(p.name for p in key_file.parent.iterdir()) == ["t1.key"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    seen = await overlay_driver.observe()
    assert seen.wan.overlay_keys["t1"] == {"public_key": new}
    # the central's settled document (the keys dropped) changes no key
    await reconcile(overlay_driver, site(t1(key_rotation_h=1), revision=6))
    assert (running_key(fake_overlay, MPLS), running_key(fake_overlay, INET)) == (new, new)


async def test_a_link_told_a_key_the_site_does_not_hold_keeps_its_key(
    fake_overlay: FakeOverlay, overlay_driver: LinuxDriver
) -> None:
    await reconcile(overlay_driver, site(t1()))
    old = running_key(fake_overlay, MPLS)
    stranger = a_public_key()
    await reconcile(overlay_driver, site(told({"mpls": {"public_key": stranger}}, {}), revision=2))
    assert running_key(fake_overlay, MPLS) == old
    notes = (await overlay_driver.observe()).wan.notes
    assert any(f"link mpls is to use key {stranger}" in note for note in notes), notes


async def test_a_restarted_driver_removes_what_is_no_longer_wanted(
    uplinks: FakeKernel, fake_overlay: FakeOverlay, overlay_driver: LinuxDriver, tmp_path: Path
) -> None:
    await reconcile(overlay_driver, site(t1()))
    await overlay_driver.close()  # the devices keep running; the section goes while it is down
    restarted = LinuxDriver(SITE, tmp_path / "run", kernel=uplinks, overlay=fake_overlay)
    try:
        none = DesiredState.from_document(2, {"services": [], "links": LINKS})
        changes = plan(none, await restarted.observe())
        assert [(c.op, c.reason) for c in changes] == [
            (ChangeOp.UPDATE_OVERLAYS, ChangeReason.UNWANTED),
            (ChangeOp.UPDATE_STEERING, ChangeReason.CONFIG_CHANGED),  # (a new steerer adopts)
        ]
        await reconcile(restarted, none)
        assert fake_overlay.devices() == []
        assert plan(none, await restarted.observe()) == []
    finally:
        await restarted.close()


async def test_tunnels_follow_a_link_its_probes_take_down(
    uplinks: FakeKernel, fake_overlay: FakeOverlay, tmp_path: Path
) -> None:
    probers = Probers()
    driver = LinuxDriver(SITE, tmp_path / "run", kernel=uplinks, overlay=fake_overlay,
                         probers=probers)  # fmt: skip
    events = cast("AsyncGenerator[LinkEvent, None]", driver.link_events())
    try:
        document = {"services": [], "links": LINKS, "steering": STEERING, "overlays": [t1()]}
        await reconcile(driver, DesiredState.from_document(1, document))
        assert set(routed(fake_overlay).values()) == {MPLS}
        told = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.05)  # the driver listens to the prober
        probers.now.went("mpls", LinkState.DOWN, old=LinkState.UP)  # carrier still up
        event = await asyncio.wait_for(told, 5)
        assert (event.link, event.new) == ("mpls", "down")
        assert set(routed(fake_overlay).values()) == {INET}
    finally:
        await events.aclose()
        await driver.close()
