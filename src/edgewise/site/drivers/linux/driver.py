"""The linux driver: the site controller's real data plane (namespaces, veth, nftables).

Implements `site.drivers.base.Driver`. Every kernel call runs in one worker thread
(netns.NamespaceWorker); `apply` turns every data-plane failure into a failed ChangeResult.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Interface, IPv4Network
from typing import TypeVar

from edgewise.model.desired import ServiceSpec, VnfSpec
from edgewise.site.drivers.linux.errors import DataPlaneError, DataPlaneUnavailable
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.layout import SiteNetwork, pick_slot, service_label
from edgewise.site.drivers.linux.netns import NamespaceWorker, check_host, namespace_inode
from edgewise.site.drivers.linux.survey import ServiceView, SiteView, observed_state, read_site
from edgewise.site.drivers.linux.vnfs import build_vnf, configure_vnf, teardown_vnf
from edgewise.site.drivers.linux.wiring import wire_service
from edgewise.site.errors import SiteError
from edgewise.site.reconcile import Change, ChangeOp, ChangeResult, ObservedState

log = logging.getLogger(__name__)
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

    def __init__(self, site: SiteNetwork) -> None:
        check_host()
        for side, name in (("LAN", site.lan_netns), ("WAN", site.wan_netns)):
            if namespace_inode(name) is None:
                raise DataPlaneUnavailable(
                    f"the site's {side}-side namespace {name} does not exist"
                )
        self.site = site
        self._worker = NamespaceWorker()
        self._host = Host(self._worker)

    async def observe(self) -> ObservedState:
        return observed_state(await self._run(lambda: read_site(self._host, self.site)))

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
            changed = await self._run(lambda: self._apply_now(change))
        except SiteError as exc:
            log.warning("%s failed: %s", change, exc.message)
            return ChangeResult(change, changed=False, failed=True, error=exc.message)
        except (ValueError, OSError) as exc:
            log.warning("%s failed: %s", change, exc)
            return ChangeResult(change, changed=False, failed=True, error=str(exc))
        return ChangeResult(change, changed=changed)

    async def close(self) -> None:
        self._worker.close()

    async def _run(self, fn: Callable[[], T]) -> T:
        return await self._worker.run(lambda: self._host.session(fn))

    def _apply_now(self, change: Change) -> bool:
        sid, op = change.service_id, change.op
        light = op is ChangeOp.CREATE_SERVICE  # only the used slots are needed
        view = read_site(self._host, self.site, sid, light=light)
        service = view.services.get(sid)
        if op is ChangeOp.DELETE_SERVICE:
            return service is not None and self._delete_service(service)
        if op is ChangeOp.CREATE_SERVICE:
            return service is None and self._create_service(sid, view)
        if service is None:
            raise DataPlaneError(f"service {sid} is not on the data plane")
        if op is ChangeOp.UPDATE_CHAIN:
            assert isinstance(change.desired, ServiceSpec)
            return wire_service(self._host, self.site, service, change.desired)
        name = change.vnf_name or ""
        namespace = self.site.vnf_namespace(service.slot, name)
        seen = service.vnfs.get(name)
        if op is ChangeOp.DELETE_VNF:
            return teardown_vnf(self._host, namespace)
        assert isinstance(change.desired, VnfSpec)
        spec = change.desired
        if seen is not None and seen.label is not None and seen.label.function == spec.function:
            if seen.healthy and seen.marker and seen.marker[1] == spec.config_digest():
                return False
            if seen.healthy or op is ChangeOp.UPDATE_VNF_CONFIG:
                configure_vnf(self._host, namespace, spec)
                return True
        if op is ChangeOp.UPDATE_VNF_CONFIG:
            raise DataPlaneError(f"VNF {change.target} is not on the data plane")
        teardown_vnf(self._host, namespace)
        build_vnf(self._host, namespace, sid, spec)
        return True

    def _create_service(self, sid: str, view: SiteView) -> bool:
        slot = pick_slot(sid, view.used_slots, self.site.slots)
        with self._host.netlink(self.site.lan_netns) as nl:
            nl.add_bridge(self.site.bridge(slot), service_label(sid))
        return True

    def _delete_service(self, service: ServiceView) -> bool:
        """Removes the VNF namespaces (their veths and the peers go with them) and the bridge."""
        for vnf in service.vnfs.values():
            teardown_vnf(self._host, vnf.namespace)
        if service.bridge is not None:
            with self._host.netlink(self.site.lan_netns) as nl:
                nl.delete(service.bridge.index)
        return True
