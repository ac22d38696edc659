"""The linux driver: the site controller's real data plane (namespaces, veth, nftables).

Implements `site.drivers.base.Driver` over a `kernel.Kernel` (by default the real one,
linuxkernel.LinuxKernel: every kernel call runs in its one worker thread; a test may give a
fakekernel.FakeKernel); `apply` does exactly the change it is given (`plan` alone chose
rebuild, reconfigure in place or restart), checks that the kernel is as planned for it, and
turns every data-plane failure (a precondition too) into a failed ChangeResult.
The kernel is read once per reconcile pass: `observe` keeps what it read (a SiteView), and the
changes of the pass work from it, each updating it with what it did; a service whose change
failed, or whose chain was just wired, is read again (alone) before its next change.
`drift_events` (site.drivers.base.WatchesDrift) runs the drift watch (watch.py) while iterated;
while it runs, `observe` reads again only the VNF namespaces the kernel told of, or the driver
changed, since the last read (a pass woken by drift then costs little on a large site), and
everything every FULL_READ_S (the counters it reports are at most that old).
WAN link health (wanhealth.py) probes the links the steering was loaded with, from the site-level
changes on; `link_events` tells their state changes; `enforce_policy` ticks real-time policy.
A removed service's bridge is deleted at the driver's next call that is not another service
removal: the kernel's clean-up of removed namespaces holds the rtnl lock for a while, so
removing all namespaces first lets it clean them up in one batch instead of one per bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any, TypeVar

from edgewise.model.desired import DesiredState, ServiceSpec, VnfSpec
from edgewise.model.functions import ProcessConfig
from edgewise.model.software import SoftwareConfig
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.host import Host, check_sides
from edgewise.site.drivers.linux.instances import DRAIN_TIMEOUT_S
from edgewise.site.drivers.linux.kernel import Kernel
from edgewise.site.drivers.linux.layout import SiteNetwork, VnfLabel, pick_slot, service_label
from edgewise.site.drivers.linux.linuxkernel import LinuxKernel
from edgewise.site.drivers.linux.overlaykeys import TenantKeys
from edgewise.site.drivers.linux.overlayside import OverlaySide, key_directory
from edgewise.site.drivers.linux.probetable import probes_batch
from edgewise.site.drivers.linux.rtcodec import Link
from edgewise.site.drivers.linux.rtpolicy import PolicyEnforcer
from edgewise.site.drivers.linux.scaleside import ElasticVnfs
from edgewise.site.drivers.linux.software import Deployment
from edgewise.site.drivers.linux.software.glue import deployment, mark_software, start_wired
from edgewise.site.drivers.linux.survey import (
    ServiceView,
    SiteView,
    VnfCache,
    VnfView,
    observed_state,
    read_site,
)
from edgewise.site.drivers.linux.vnfs import (
    build_vnf,
    configure_vnf,
    restart_process,
    teardown_vnf,
)
from edgewise.site.drivers.linux.wanhealth import ProberFactory, WanHealth, real_prober
from edgewise.site.drivers.linux.wanside import WanSide
from edgewise.site.drivers.linux.wireguard import Overlay, OverlayEngine
from edgewise.site.drivers.linux.wiring import wire_service
from edgewise.site.errors import SiteError
from edgewise.site.health.events import LinkEvent
from edgewise.site.reconcile import SITE, Change, ChangeOp, ChangeResult, ObservedState
from edgewise.site.sdwan.health import LinkHealth
from edgewise.site.sdwan.sections import ObservedWan

log = logging.getLogger(__name__)
RUNTIME_ROOT = Path("/run/edgewise")
SOFTWARE_ROOT = Path("/var/lib/edgewise")  # not under /run: a VNF's /run is its own (confine.py)
DRIFT_DEBOUNCE_S = 0.02  # a burst of notifications (a link and its peer going down) is one
FULL_READ_S = 4.0  # below the controller's 5 s reconcile timer: its timed passes read it all
T = TypeVar("T")


@dataclass(frozen=True)
class LanAttachment:
    """Where a service's LAN hosts plug in: a bridge in the LAN-side namespace, and the subnet."""

    namespace: str
    bridge: str
    subnet: IPv4Network
    gateway: IPv4Interface


class LinuxDriver:
    """Builds each service as namespaces and veth links between the site's LAN and WAN sides."""

    def __init__(
        self,
        site: SiteNetwork,
        runtime_dir: Path | None = None,
        *,
        kernel: Kernel | None = None,
        overlay: Overlay | None = None,
        probers: ProberFactory | None = None,
        may_install_packages: bool = False,
        drain_timeout_s: float = DRAIN_TIMEOUT_S,
    ) -> None:
        """`runtime_dir` holds the state files of process VNFs (default /run/edgewise/<prefix>);
        `kernel` is this host's (linuxkernel.LinuxKernel) unless given; the driver closes it;
        `overlay` runs the overlay devices (default: an OverlayEngine under `runtime_dir`).
        `probers` makes the WAN links' prober: the real one over the real kernel, none (links
        not probed) over a given kernel unless given. Third-party VNFs keep their files under
        `runtime_dir`/software if given, else /var/lib/edgewise/<prefix>/software;
        `may_install_packages`: their missing Debian packages are installed with apt-get.
        `drain_timeout_s`: how long a leaving instance of an elastic VNF keeps its flows at most
        (instances.py)."""
        self._elastic = ElasticVnfs(site, drain_timeout_s)  # first: it checks the timeout
        if probers is None and kernel is None:
            probers = real_prober
        self._kernel: Kernel = kernel if kernel is not None else LinuxKernel()
        try:
            check_sides(self._kernel, site)
        except BaseException:
            self._kernel.close()
            raise
        self.site = site
        self.runtime_dir = runtime_dir or RUNTIME_ROOT / site.prefix
        self._host = Host(self._kernel, self.runtime_dir, site.prefix)
        software_base = (runtime_dir / "software" if runtime_dir is not None
                         else SOFTWARE_ROOT / site.prefix / "software")  # fmt: skip
        self._software = self._kernel.software(
            software_base, self._host.watch, may_install=may_install_packages
        )
        self._snapshot: SiteView | None = None
        self._stale: set[str] = set()  # services to read again before their next change
        self._doomed: list[Link] = []  # bridges of removed services, not deleted yet
        self._cache = VnfCache(
            self._kernel.inode
        )  # VNF namespaces as read, reused while the drift watch runs
        self._touched: set[str] = set()  # services changed since the last read
        self._full_read_at = -FULL_READ_S
        self._closed = False
        self._wan = WanSide(self._kernel, self._host, site, self.runtime_dir)  # links, steering
        self._overlays = self._overlay_side(overlay)
        self._health = WanHealth(site.wan_netns, probers)  # the links' probes
        self._policy = PolicyEnforcer()  # real-time policy rules (rtpolicy.py)

    async def observe(self) -> ObservedState:
        def read() -> ObservedState:
            services = observed_state(self._read_all()).services
            return ObservedState(services, self._observe_wan())

        state = await self._run(read)
        return replace(state, wan=await self._overlays.observe(state.wan))

    def _overlay_side(self, overlay: Overlay | None) -> OverlaySide:
        def engine() -> Overlay:
            return overlay or OverlayEngine(self.runtime_dir / "overlay")

        def probed() -> dict[str, LinkHealth]:
            steerer = self._wan.steerer
            return {} if steerer is None else dict(steerer.probed)

        keys = TenantKeys(key_directory(self.runtime_dir))
        return OverlaySide(self._kernel, self._host, self.site, run=self._run, overlay=engine,
                           keys=keys, probed=probed)  # fmt: skip

    def _observe_wan(self) -> ObservedWan:
        """The WAN side as read, with its links' probe figures, its rules' counters and notes."""
        wan = self._wan.observe()
        self._health.ensure()
        extra = {"probes": self._health.report(), "policy": self._policy.counters()}
        extra = {key: value for key, value in extra.items() if value}
        notes = self._health.all_notes()
        if not extra and not notes:
            return wan
        return replace(wan, counters={**wan.counters, **extra}, notes=(*wan.notes, *notes))

    async def link_events(self) -> AsyncIterator[LinkEvent]:
        """The WAN links' state changes, as the prober finds them (while iterated)."""
        loop = asyncio.get_running_loop()
        found: asyncio.Queue[LinkEvent] = asyncio.Queue()

        def tell(event: LinkEvent) -> None:  # the prober's thread
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody listens
                loop.call_soon_threadsafe(found.put_nowait, event)

        self._health.listener = tell
        try:
            while True:
                event = await found.get()
                await self._follow_links()  # the tunnels leave a link its probes took down
                yield event
        finally:
            if self._health.listener is tell:
                self._health.listener = None

    async def _follow_links(self) -> None:
        """The overlays' routes follow the links' state now. The prober feeds the steering from
        its own thread; the overlays move here, on the event loop, at each state change. A
        failure is logged: the next reconcile pass finds the overlay's routes and mends them."""
        try:
            await self._overlays.follow()
        except Exception:
            log.exception("the overlays could not follow the links' state")

    async def set_link_health(self, link: str, health: LinkHealth) -> bool:
        """What a link's probes measure (state, latency, loss, jitter): steering follows it at
        once; True when traffic moved. Carrier loss still takes a link down whatever this says."""
        steerer = self._wan.steerer
        if steerer is None:
            return False
        moved = await asyncio.to_thread(steerer.set_probed, link, health)
        return await self._overlays.follow() or moved

    def routes_now(self) -> dict[str, list[str]]:
        """Each steering key's links as decided now (no kernel read: any thread, cheap)."""
        steerer = self._wan.steerer
        return {} if steerer is None else dict(steerer.report()["routes"])

    async def enforce_policy(
        self, desired: DesiredState, observed: ObservedState | None
    ) -> list[dict[str, Any]]:
        """One evaluation of the real-time policy rules (rtpolicy.py); returns its events."""
        nft = functools.partial(self._host.nft, self.site.wan_netns)
        return await self._run(lambda: self._policy.tick(nft, desired, observed, self._wan.steerer))

    async def tick(self) -> bool:
        """Decides steering again now (a failback's hold time may have passed)."""
        steerer = self._wan.steerer
        return False if steerer is None else await asyncio.to_thread(steerer.tick)

    def _read_all(self) -> SiteView:
        self._host.release_stale()
        self._forget_changed()
        self._snapshot = read_site(self._host, self.site, cache=self._cache)
        mark_software(self._snapshot, self._software)
        self._stale.clear()
        self._sync_watch()
        return self._snapshot

    def _forget_changed(self) -> None:
        """Drops from the cache what may have changed since the last read (all of it unless the
        drift watch runs, and every FULL_READ_S)."""
        dirty = self._host.watch.take_dirty()
        now = time.monotonic()
        if dirty is None or now - self._full_read_at >= FULL_READ_S:
            self._cache.clear()
            self._full_read_at = now
        else:
            self._cache.drop(dirty)
            self._cache.drop_services(self._touched)
        self._touched.clear()

    async def drift_events(self) -> AsyncIterator[str]:
        """What may have drifted, as the kernel tells it: one line per burst of notifications.

        Watches while iterated (one iteration at a time): the namespaces of the site (deleted),
        their links (down or gone), the VNFs' rulesets (deleted or flushed) and the programs of
        process VNFs (ended). The driver's own changes do not count.
        """
        loop = asyncio.get_running_loop()
        found: asyncio.Queue[str] = asyncio.Queue()

        def report(reason: str) -> None:  # the watch's thread
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody listens
                loop.call_soon_threadsafe(found.put_nowait, reason)

        self._host.watch.start(report)
        try:
            await self._run(self._sync_watch)
            while True:
                reasons = [await found.get()]
                await asyncio.sleep(DRIFT_DEBOUNCE_S)
                while not found.empty():
                    reasons.append(found.get_nowait())
                more = f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else ""
                yield "; ".join(dict.fromkeys(reasons[:3])) + more
        finally:
            self._host.watch.stop()

    def _sync_watch(self) -> None:
        """Points the running drift watch at the site's namespaces and programs (worker)."""
        watch = self._host.watch
        if not watch.running:
            return
        namespaces = {self.site.lan_netns: False, self.site.wan_netns: False}
        for name in self._kernel.namespaces(self.site.namespace_prefix):
            if self.site.slot_of_namespace(name) is not None:
                namespaces[name] = True
        programs = {**self._host.processes.running(), **self._software.running()}
        watch.sync(namespaces, programs, wan=self.site.wan_netns)

    async def view(self, service_id: str | None = None) -> SiteView:
        """The kernel objects of the site (or of one service), for status and tests."""
        return await self._run(lambda: read_site(self._host, self.site, service_id))

    async def attachment(self, service_id: str) -> LanAttachment | None:
        service = (await self.view(service_id)).services.get(service_id)
        if service is None:
            return None
        slot = service.slot
        return LanAttachment(
            self.site.lan_netns,
            self.site.bridge(slot),
            self.site.lan_subnet(slot),
            self.site.lan_gateway(slot),
        )

    async def apply(self, change: Change) -> ChangeResult:
        if change.op is ChangeOp.UPDATE_OVERLAYS:
            return await self._apply_overlays(change)
        removal = change.op is ChangeOp.DELETE_SERVICE
        try:
            changed = await self._run(lambda: self._apply_marked(change), keep_doomed=removal)
        except SiteError as exc:
            log.warning("%s failed: %s", change, exc.message)
            return ChangeResult(change, changed=False, failed=True, error=exc.message)
        except (ValueError, OSError) as exc:
            log.warning("%s failed: %s", change, exc)
            return ChangeResult(change, changed=False, failed=True, error=str(exc))
        return ChangeResult(change, changed=changed)

    async def _apply_overlays(self, change: Change) -> ChangeResult:
        assert isinstance(change.desired, DesiredState)
        try:
            changed = await self._overlays.apply(change.desired)
        except SiteError as exc:
            log.warning("%s failed: %s", change, exc.message)
            return ChangeResult(change, changed=False, failed=True, error=exc.message)
        except OSError as exc:
            log.warning("%s failed: %s", change, exc)
            return ChangeResult(change, changed=False, failed=True, error=str(exc))
        return ChangeResult(change, changed=changed)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._overlays.close()
        self._host.watch.stop()
        await self._run(self._health.stop)
        await self._run(self._wan.close)
        await self._run(self._software.close)
        await self._run(self._host.close)
        self._kernel.close()

    async def _run(self, fn: Callable[[], T], *, keep_doomed: bool = False) -> T:
        def call() -> T:
            if not keep_doomed:
                self._delete_doomed()
            return fn()

        return await self._kernel.run(lambda: self._host.session(call))

    def _sync_health(self) -> None:
        """Probes the links the steering is loaded with (none: stops probing); their probes
        are kept out of conntrack from the first one (probetable.py)."""
        steerer = self._wan.steerer
        loaded = steerer.loaded if steerer is not None else None
        plans = list(loaded.plans.values()) if loaded is not None else []
        self._health.want(plans, steerer.set_probed if steerer is not None else None)
        with self._host.nft(self.site.wan_netns) as nft:
            nft.run(probes_batch(self._health.wanted))
        self._health.ensure()

    def _delete_doomed(self) -> None:
        """Deletes the bridges of the services removed since the last call (worker thread)."""
        doomed, self._doomed = self._doomed, []
        for bridge in doomed:
            try:
                self._host.delete_link(self.site.lan_netns, bridge.index, bridge.name)
            except DataPlaneError as exc:  # still labelled: the next pass removes it again
                log.warning("deleting bridge %s: %s", bridge.name, exc.message)

    def _apply_marked(self, change: Change) -> bool:
        """`_apply_now`; on failure the service is read again before its next change."""
        self._touched.add(change.service_id)
        try:
            return self._apply_now(change)
        except BaseException:
            self._stale.add(change.service_id)
            raise

    def _site_view(self, sid: str) -> SiteView:
        """The pass's view of the site, with service `sid` read again if it may be stale."""
        snapshot = self._snapshot
        if snapshot is None:
            return self._read_all()
        if sid in self._stale:
            fresh = read_site(self._host, self.site, sid)
            snapshot.used_slots |= fresh.used_slots
            snapshot.services.pop(sid, None)
            if sid in fresh.services:
                snapshot.services[sid] = fresh.services[sid]
            self._stale.discard(sid)
        return snapshot

    def _apply_now(self, change: Change) -> bool:
        sid, op = change.service_id, change.op
        if sid == SITE:
            changed = self._wan.apply(change, self._snapshot or self._read_all())
            self._sync_health()
            return changed
        view = self._site_view(sid)
        service = view.services.get(sid)
        if op is ChangeOp.DELETE_SERVICE:
            return service is not None and self._delete_service(view, service)
        if op is ChangeOp.CREATE_SERVICE:
            return service is None and self._create_service(sid, view)
        if service is None:
            raise DataPlaneError(f"service {sid} is not on the data plane")
        if op is ChangeOp.UPDATE_CHAIN:
            assert isinstance(change.desired, ServiceSpec)
            self._stale.add(sid)  # the links are new: read them again if needed this pass
            wired = wire_service(self._host, self.site, service, change.desired)
            started = start_wired(self._host, self._software, self.site, service.slot,
                                  change.desired)  # fmt: skip
            return self._elastic.wired(self._host, service, change.desired) or wired or started
        name = change.vnf_name or ""
        namespace = self.site.vnf_namespace(service.slot, name)
        seen = service.vnfs.get(name)
        if op is ChangeOp.DELETE_VNF:
            self._elastic.deleted(self._host, service, name)
            service.forget(name)
            return teardown_vnf(self._host, namespace, self._software)
        spec = change.desired
        assert isinstance(spec, VnfSpec)
        if (scaled := self._elastic.scale(self._host, service, spec, op)) is not None:
            self._stale.add(sid)  # its instances' links may be new
            return scaled
        if seen is not None and seen.healthy and seen.running_config(spec):
            return False  # what the change makes is there already (applied twice)
        if op is ChangeOp.CREATE_VNF:
            return self._create_vnf(change, service, namespace, spec)
        vnf = service.expect(str(change.target), seen, spec)
        if op is ChangeOp.UPDATE_VNF_CONFIG:
            if isinstance(spec.config, SoftwareConfig):  # first: a failed reload keeps the marker
                self._software.reload(self._deployment(service, spec))
            configure_vnf(self._host, namespace, spec)
            vnf.marker = (spec.function.value, spec.ruleset_digest())
            vnf.shaping_ok = True  # configure_vnf set the token buckets, started the program
            vnf.process_ok = True
            return True
        if op is ChangeOp.RESTART_VNF:
            if not isinstance(spec.config, ProcessConfig | SoftwareConfig):
                raise DataPlaneError(f"VNF {change.target} has no program to restart")
            if not vnf.running_config(spec):
                raise DataPlaneError(f"VNF {change.target} runs another config: not restarted")
            if isinstance(spec.config, SoftwareConfig):
                self._software.heal(self._deployment(service, spec))
            else:
                restart_process(self._host, namespace, spec)
            vnf.process_ok = True
            return True
        raise ValueError(f"{op.value} is not a change of one VNF")

    def _create_vnf(
        self, change: Change, service: ServiceView, namespace: str, spec: VnfSpec
    ) -> bool:
        """Builds the VNF anew (removing first an unlabelled namespace left under its name)."""
        if spec.name in service.vnfs:
            raise DataPlaneError(
                f"VNF {change.target} is on the data plane already, not as planned: "
                "the next pass plans again"
            )
        teardown_vnf(self._host, namespace, self._software)
        build_vnf(self._host, namespace, service.service_id, spec, self._software)
        self._elastic.created(self._host, service, spec)
        service.vnfs[spec.name] = VnfView(
            namespace,
            service.slot,
            VnfLabel(service.service_id, spec.name, spec.function.value),
            (spec.function.value, spec.ruleset_digest()),
        )
        return True

    def _deployment(self, service: ServiceView, spec: VnfSpec) -> Deployment:
        return deployment(self._host, self._software, self.site, service.slot,
                          service.service_id, spec)  # fmt: skip

    def _create_service(self, sid: str, view: SiteView) -> bool:
        slot = pick_slot(sid, view.used_slots, self.site.slots)
        with self._host.netlink(self.site.lan_netns) as nl:
            bridge = nl.add_bridge(self.site.bridge(slot), service_label(sid))
        view.used_slots.add(slot)
        view.services[sid] = ServiceView(sid, slot, bridge=bridge)
        return True

    def _delete_service(self, view: SiteView, service: ServiceView) -> bool:
        """Removes the VNF namespaces (their veths and the peers go with them), then the bridge
        (at the next call that is not a removal: see the module's docstring)."""
        view.services.pop(service.service_id, None)
        self._stale.add(service.service_id)
        for vnf in service.vnfs.values():
            teardown_vnf(self._host, vnf.namespace, self._software)
        if service.bridge is not None:
            self._doomed.append(service.bridge)
        view.used_slots.discard(service.slot)
        return True
