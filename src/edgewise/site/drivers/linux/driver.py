"""The linux driver: the site controller's real data plane (namespaces, veth, nftables).

Implements `site.drivers.base.Driver`. Every kernel call runs in one worker thread
(netns.NamespaceWorker); `apply` turns every data-plane failure into a failed ChangeResult.
The kernel is read once per reconcile pass: `observe` keeps what it read (a SiteView), and the
changes of the pass work from it, each updating it with what it did; a service whose change
failed, or whose chain was just wired, is read again (alone) before its next change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path
from typing import TypeVar

from edgewise.model.desired import ServiceSpec, VnfSpec
from edgewise.site.drivers.linux.errors import DataPlaneError, DataPlaneUnavailable
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.layout import SiteNetwork, VnfLabel, pick_slot, service_label
from edgewise.site.drivers.linux.netns import NamespaceWorker, check_host, namespace_inode
from edgewise.site.drivers.linux.survey import (
    ServiceView,
    SiteView,
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
from edgewise.site.drivers.linux.wiring import wire_service
from edgewise.site.errors import SiteError
from edgewise.site.reconcile import Change, ChangeOp, ChangeResult, ObservedState

log = logging.getLogger(__name__)
RUNTIME_ROOT = Path("/run/edgewise")
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

    def __init__(self, site: SiteNetwork, runtime_dir: Path | None = None) -> None:
        """`runtime_dir` holds the state files of process VNFs (default /run/edgewise/<prefix>)."""
        check_host()
        for side, name in (("LAN", site.lan_netns), ("WAN", site.wan_netns)):
            if namespace_inode(name) is None:
                raise DataPlaneUnavailable(
                    f"the site's {side}-side namespace {name} does not exist"
                )
        self.site = site
        self._worker = NamespaceWorker()
        self.runtime_dir = runtime_dir or RUNTIME_ROOT / site.prefix
        self._host = Host(self._worker, self.runtime_dir)
        self._snapshot: SiteView | None = None
        self._stale: set[str] = set()  # services to read again before their next change
        self._closed = False

    async def observe(self) -> ObservedState:
        return observed_state(await self._run(self._read_all))

    def _read_all(self) -> SiteView:
        self._host.release_stale()
        self._snapshot = read_site(self._host, self.site)
        self._stale.clear()
        return self._snapshot

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
        try:
            changed = await self._run(lambda: self._apply_marked(change))
        except SiteError as exc:
            log.warning("%s failed: %s", change, exc.message)
            return ChangeResult(change, changed=False, failed=True, error=exc.message)
        except (ValueError, OSError) as exc:
            log.warning("%s failed: %s", change, exc)
            return ChangeResult(change, changed=False, failed=True, error=str(exc))
        return ChangeResult(change, changed=changed)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._worker.run(self._host.close)
        self._worker.close()

    async def _run(self, fn: Callable[[], T]) -> T:
        return await self._worker.run(lambda: self._host.session(fn))

    def _apply_marked(self, change: Change) -> bool:
        """`_apply_now`; on failure the service is read again before its next change."""
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
            return wire_service(self._host, self.site, service, change.desired)
        name = change.vnf_name or ""
        namespace = self.site.vnf_namespace(service.slot, name)
        seen = service.vnfs.get(name)
        spec = change.desired
        if op is ChangeOp.DELETE_VNF:
            if isinstance(spec, VnfSpec) and seen is not None and restartable(seen, spec):
                return False  # rebuilt for a dead program: the create restarts it in place
            forget_vnf(service, name)
            return teardown_vnf(self._host, namespace)
        assert isinstance(spec, VnfSpec)
        if seen is not None and seen.label is not None and seen.label.function == spec.function:
            if seen.healthy and seen.marker and seen.marker[1] == spec.config_digest():
                return False
            if restartable(seen, spec):
                restart_process(self._host, namespace, spec)
                seen.process_ok = True
                return True
            if seen.healthy or op is ChangeOp.UPDATE_VNF_CONFIG:
                configure_vnf(self._host, namespace, spec)
                seen.marker = (spec.function.value, spec.config_digest())
                return True
        if op is ChangeOp.UPDATE_VNF_CONFIG:
            raise DataPlaneError(f"VNF {change.target} is not on the data plane")
        forget_vnf(service, name)
        teardown_vnf(self._host, namespace)
        build_vnf(self._host, namespace, sid, spec)
        service.vnfs[name] = VnfView(
            namespace,
            service.slot,
            VnfLabel(sid, name, spec.function.value),
            (spec.function.value, spec.config_digest()),
        )
        return True

    def _create_service(self, sid: str, view: SiteView) -> bool:
        slot = pick_slot(sid, view.used_slots, self.site.slots)
        with self._host.netlink(self.site.lan_netns) as nl:
            bridge = nl.add_bridge(self.site.bridge(slot), service_label(sid))
        view.used_slots.add(slot)
        view.services[sid] = ServiceView(sid, slot, bridge=bridge)
        return True

    def _delete_service(self, view: SiteView, service: ServiceView) -> bool:
        """Removes the VNF namespaces (their veths and the peers go with them) and the bridge."""
        view.services.pop(service.service_id, None)
        self._stale.add(service.service_id)
        if service.bridge is not None:  # first: the kernel's clean-up of namespaces holds rtnl
            with self._host.netlink(self.site.lan_netns) as nl:
                nl.delete(service.bridge.index)
        for vnf in service.vnfs.values():
            teardown_vnf(self._host, vnf.namespace)
        view.used_slots.discard(service.slot)
        return True


def restartable(seen: VnfView, spec: VnfSpec) -> bool:
    """Whether the VNF is whole, with the wanted config, and only its program is down."""
    return (
        seen.only_process_down
        and seen.label is not None
        and seen.label.function == spec.function
        and seen.marker is not None
        and seen.marker[1] == spec.config_digest()
    )


def forget_vnf(service: ServiceView, name: str) -> None:
    """Drops a VNF about to be removed from the view, with its links (both ends die with it)."""
    vnf = service.vnfs.pop(name, None)
    if vnf is not None:
        tokens = {end.label.token for end in vnf.ends}
        service.ends = [end for end in service.ends if end.label.token not in tokens]
