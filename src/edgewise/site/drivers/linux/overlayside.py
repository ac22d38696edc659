"""The overlays side of the linux driver: UPDATE_OVERLAYS applied through the overlay seam
(`wireguard.Overlay`: the engine, or a fake), the devices read back for drift, and the tunnels
following the links: a peer's prefixes ride the device of its first endpoint whose link is
usable (carrier, from a carrier watch of its own, and not down by the probes) and move at once.

What it sets besides the devices: the overlay's two routing rules (wireguard/underlay.py), and
`rp_filter` 0 on the WAN namespace (all, the links, the devices): the peers' WAN addresses are
routed only in the links' fwmark tables, and a reverse-path check drops their packets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from ipaddress import IPv4Network
from pathlib import Path
from typing import Protocol, TypeVar

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.kernel import CarrierWatcher, Kernel
from edgewise.site.drivers.linux.layout import SiteNetwork
from edgewise.site.drivers.linux.overlaykeys import TenantKeys
from edgewise.site.drivers.linux.overlaypeers import PeerKey, peer_states
from edgewise.site.drivers.linux.overlays import (
    OVERLAY_MARK,
    OVERLAY_TABLE,
    RULE_PRIORITY,
    PlannedDevice,
    choose_routes,
    key_problems,
    plan_devices,
    unbuilt_links,
)
from edgewise.site.drivers.linux.wan import read_links
from edgewise.site.drivers.linux.wireguard import Overlay
from edgewise.site.drivers.linux.wireguard.underlay import Underlay
from edgewise.site.sdwan.health import LinkHealth
from edgewise.site.sdwan.sections import ObservedWan, WanFault, overlays_digest

log = logging.getLogger(__name__)
UNADOPTED = "unadopted"  # the overlays digest of devices an earlier run of the driver built
T = TypeVar("T")


class Run(Protocol):
    """Runs `fn` in the driver's kernel worker (LinuxDriver._run)."""

    def __call__(self, fn: Callable[[], T]) -> Awaitable[T]: ...


class OverlaySide:
    """`run` runs a function in the driver's kernel worker; `probed` answers the links' health
    as the probes measure it (the steerer's); `overlay` is made on first need."""

    def __init__(
        self,
        kernel: Kernel,
        host: Host,
        site: SiteNetwork,
        *,
        run: Run,
        overlay: Callable[[], Overlay],
        keys: TenantKeys,
        probed: Callable[[], Mapping[str, LinkHealth]],
    ) -> None:
        self._kernel = kernel
        self._host = host
        self._site = site
        self._run = run
        self._make_overlay = overlay
        self._overlay: Overlay | None = None
        self.keys = keys
        self._probed = probed
        self._lock = asyncio.Lock()
        self._desired: DesiredState | None = None
        self._planned: list[PlannedDevice] = []
        self._digest = ""
        self._notes: list[str] = []
        self._slots: dict[str, int] = {}
        self._interfaces: dict[str, str] = {}  # link name by interface name
        self.carrier: dict[str, bool] = {}  # by link name
        self.routes: dict[str, list[IPv4Network]] = {}
        self._watch: CarrierWatcher | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[bool]] = set()
        self.moves = 0
        self._peers_seen: dict[PeerKey, float] = {}  # when each peer was first tunnelled to

    @property
    def wan(self) -> str:
        return self._site.wan_netns

    def overlay(self) -> Overlay:
        if self._overlay is None:
            self._overlay = self._make_overlay()
        return self._overlay

    async def apply(self, desired: DesiredState) -> bool:
        async with self._lock:
            if not desired.overlays:
                return await self._remove_all()
            return await self._build(desired)

    async def _build(self, desired: DesiredState) -> bool:
        links = await self._run(lambda: read_links(self._host, self.wan))
        self._slots = {name: label.slot for name, label in links.labels.items()}
        self._interfaces = {links.interfaces[n].name: n for n in self._slots}
        for name, iface in links.interfaces.items():
            self.carrier.setdefault(name, iface.up and iface.carrier)
        overlay = self.overlay()
        for spec in desired.overlays:
            self.keys.ensure(spec.tenant)
        self._desired = desired
        self._rotate_due(promote=True)
        planned = plan_devices(desired.overlays, self._slots, site_prefix=self._site.prefix,
                               namespace=self.wan, key_file=self.keys.file_for)  # fmt: skip
        names = [p.device.name for p in planned]
        changed = False
        for name in overlay.devices():
            if name not in names:
                changed |= await overlay.remove(name)
        for item in planned:
            changed |= (await overlay.ensure(item.device)).changed
        settings = {"net.ipv4.conf.all.rp_filter": "0"}
        settings |= {f"net.ipv4.conf.{i}.rp_filter": "0" for i in [*self._interfaces, *names]}
        await self._run(lambda: self._host.write_sysctl(self.wan, settings))
        underlay = Underlay(OVERLAY_TABLE, OVERLAY_MARK, RULE_PRIORITY, tuple(names))
        changed |= await overlay.underlay(self.wan, underlay)
        self._desired, self._planned = desired, planned
        self._notes = unbuilt_links(desired.overlays, self._slots)
        self._notes += key_problems(desired.overlays, self.keys.holds)
        await self._start_watch()
        changed |= await self._follow(again=True)
        gone = self.keys.forget({spec.tenant for spec in desired.overlays})
        if gone:
            log.info("overlay keys of tenants without an overlay removed: %s", ", ".join(gone))
        self._digest = overlays_digest(desired)
        return changed

    def _rotate_due(self, *, promote: bool) -> None:
        """Prepares the next key of every tenant whose key is older than its `key_rotation_h`;
        with `promote`, makes it the key once every link of the tenant's overlay is told to use
        it (the central moved them one at a time: docs/overlay.md, "Key rotation")."""
        for spec in self._desired.overlays if self._desired is not None else ():
            if self.keys.file(spec.tenant).exists():
                told = {ride.public_key for ride in spec.links}
                links_use = told.pop() if len(told) == 1 else None
                self.keys.rotate(spec.tenant, spec.key_rotation_h, links_use, promote=promote)

    async def _remove_all(self) -> bool:
        """Every device of ours, the rules, the routes, the keys (none is kept: a tenant given
        an overlay again gets a new key). rp_filter stays 0 until the links set it again."""
        self._desired, self._planned, self._digest, self._notes = None, [], "", []
        self._peers_seen.clear()
        await self._stop_watch()
        if self._overlay is None and not self.keys.directory.exists():
            return False
        overlay = self.overlay()
        changed = False
        for name in overlay.devices():
            changed |= await overlay.remove(name)
        changed |= await overlay.underlay(self.wan, None)
        await overlay.route_peers(self.wan, OVERLAY_TABLE, {})
        self.routes = {}
        changed |= bool(self.keys.forget(()))
        return changed

    async def follow(self) -> bool:
        """Routes each peer's prefixes by the device of its first usable link, at once; True
        when a route moved (the links' health changed)."""
        async with self._lock:
            return await self._follow()

    async def _follow(self, *, again: bool = False) -> bool:
        """`follow` under the lock; `again`: writes the routes even if they did not move (a
        device made anew took its routes with it)."""
        if self._desired is None:
            return False
        probed = self._probed()
        usable = {
            name
            for name, up in self.carrier.items()
            if up and (name not in probed or probed[name].usable)
        }
        built = {p.link for p in self._planned}
        routes = choose_routes(self._desired.overlays, built, usable, self._site.prefix)
        if routes == self.routes and not again:
            return False
        await self.overlay().route_peers(self.wan, OVERLAY_TABLE, routes)
        moved = bool(self.routes) and routes != self.routes
        self.routes, before = routes, self.routes
        if moved:
            self.moves += 1
        return routes != before

    async def observe(self, wan: ObservedWan) -> ObservedWan:
        """`wan` with the overlays' digest, their faults and notes, the tenants' keys (a
        rotation that fell due is prepared first, so the status reports the next key) and their
        peers' tunnels up or down (overlaypeers.py)."""
        self._rotate_due(promote=False)
        keys = self.keys.report(self.keys.tenants())
        if not self._planned:
            # keys of an earlier run and nothing built by this one: what runs is not adopted
            digest = self._digest or (UNADOPTED if keys else "")
            return replace(wan, overlays_digest=digest, overlay_keys=keys)
        overlay = self.overlay()
        seen = {item.device.name: await overlay.observe(item.device.name, self.wan)
                for item in self._planned}  # fmt: skip
        broken = [
            f"overlay {item.tenant} over {item.link}: device {item.device.name} is not running"
            for item in self._planned
            if seen[item.device.name] is None
        ]
        overlays = self._desired.overlays if self._desired is not None else ()
        peers = peer_states(overlays, self._planned, seen, self._peers_seen, epoch())
        faults = wan.faults | ({WanFault.OVERLAYS_BROKEN} if broken else set())
        counters = dict(wan.counters)
        routes = {device: [str(p) for p in ps] for device, ps in self.routes.items()}
        counters["overlays"] = {"routes": routes, "moves": self.moves}
        return replace(wan, overlays_digest=self._digest, faults=frozenset(faults),
                       notes=(*wan.notes, *self._notes, *broken), counters=counters,
                       overlay_keys=keys, overlay_peers=peers)  # fmt: skip

    # the carrier watch (its own thread): a link's carrier moves the tunnels at once

    async def _start_watch(self) -> None:
        if self._watch is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._watch = await self._run(
            lambda: self._kernel.watch_carrier(self.wan, self._heard, _no_tick, self._watched)
        )

    async def _stop_watch(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            await self._run(watch.stop)

    def _watched(self) -> list[str]:
        return sorted(self._interfaces)

    def _heard(self, interface: str, carrier: bool) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._carrier_changed, interface, carrier)

    def _carrier_changed(self, interface: str, carrier: bool) -> None:
        link = self._interfaces.get(interface)
        if link is None or self.carrier.get(link) == carrier:
            return
        self.carrier[link] = carrier
        task = asyncio.get_running_loop().create_task(self.follow())
        self._tasks.add(task)
        task.add_done_callback(self._followed)

    def _followed(self, task: asyncio.Task[bool]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("overlay routes did not follow the links: %s", task.exception())

    async def close(self) -> None:
        """Stops the watch; the devices keep running, to be adopted."""
        await self._stop_watch()
        for task in list(self._tasks):
            task.cancel()
        close = getattr(self._overlay, "close", None)
        if callable(close):
            close()


def epoch() -> float:
    """Now, on the clock WireGuard's handshakes are told on."""
    return time.time()


def _no_tick() -> float | None:
    return None


def key_directory(runtime_dir: Path) -> Path:
    return runtime_dir / "overlay-keys"
