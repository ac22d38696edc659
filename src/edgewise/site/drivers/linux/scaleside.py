"""The linux driver's changes of an elastic VNF (worker thread): what `driver.LinuxDriver` does
for one when it is created, deleted, configured or scaled (UPDATE_VNF_CONFIG: the instance count
is part of the digest the planner compares) and when its service's chain is wired
(`ElasticVnfs`, one per driver). instances.py does the work; this module only sequences it.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from edgewise.model.desired import ServiceSpec, VnfSpec
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.instances import (
    DRAIN_TIMEOUT_S,
    MAX_DRAIN_S,
    build_members,
    configure_members,
    drain,
    elastic,
    members,
    wire_members,
)
from edgewise.site.drivers.linux.layout import SiteNetwork, member_name, split_member
from edgewise.site.drivers.linux.spread import sync_spreader
from edgewise.site.drivers.linux.survey import ServiceView, read_site
from edgewise.site.drivers.linux.vnfs import configure_vnf, teardown_vnf
from edgewise.site.reconcile import ChangeOp

NO_PEER = IPv4Address(0)  # removing a spreader: its routes go whatever their gateway


class ElasticVnfs:
    """A driver's elastic VNFs: their leaving instances (namespace: draining since, monotonic)
    and how long one drains at most (`drain_timeout_s`, 0 to MAX_DRAIN_S)."""

    def __init__(self, site: SiteNetwork, drain_timeout_s: float = DRAIN_TIMEOUT_S) -> None:
        if not 0 <= drain_timeout_s <= MAX_DRAIN_S:
            raise ValueError(f"drain_timeout_s {drain_timeout_s}: from 0 to {MAX_DRAIN_S}")
        self.site, self.drain_timeout_s = site, drain_timeout_s
        self.draining: dict[str, float] = {}

    def created(self, host: Host, service: ServiceView, spec: VnfSpec) -> bool:
        """After CREATE_VNF: its instances >= 1 too (the chain wires them)."""
        return build_members(host, self.site, service, spec)

    def wired(self, host: Host, seen: ServiceView, spec: ServiceSpec) -> bool:
        """After UPDATE_CHAIN: `after_chain`."""
        return after_chain(host, self.site, seen, spec, self.draining, self.drain_timeout_s)

    def scale(self, host: Host, service: ServiceView, spec: VnfSpec, op: ChangeOp) -> bool | None:
        """UPDATE_VNF_CONFIG of an elastic VNF (`scale_vnf`); None for any other change."""
        if op is not ChangeOp.UPDATE_VNF_CONFIG or not elastic(service, spec):
            return None
        return scale_vnf(host, self.site, service, spec, draining=self.draining,
                         drain_timeout_s=self.drain_timeout_s)  # fmt: skip

    def deleted(self, host: Host, service: ServiceView, name: str) -> bool:
        """DELETE_VNF: its instances >= 1 go first."""
        return delete_members(host, self.site, service, name, self.draining)


def scale_vnf(
    host: Host,
    site: SiteNetwork,
    service: ServiceView,
    spec: VnfSpec,
    *,
    draining: dict[str, float],
    drain_timeout_s: float,
) -> bool:
    """Brings an elastic VNF to `spec`: its config in every instance, missing instances built
    and wired, the spreaders over the active ones, leaving instances drained then removed."""
    target = f"{service.service_id}/{spec.name}"
    base = service.expect(target, service.vnfs.get(spec.name), spec)
    changed = False
    if not (base.healthy and base.running_config(spec)):
        configure_vnf(host, base.namespace, spec)
        base.marker = (spec.function.value, spec.ruleset_digest())
        base.shaping_ok = base.process_ok = True
        changed = True
    changed = configure_members(host, service, spec) or changed
    changed = build_members(host, site, service, spec) or changed
    leaving = {
        member_name(spec.name, i) for i in members(service, spec.name) if i >= spec.instances
    }
    changed = wire_members(host, site, service, spec, leaving) or changed
    if drain(host, site, service, spec, draining=draining, timeout_s=drain_timeout_s):
        fresh = read_site(host, site, service.service_id).services[service.service_id]
        wire_members(host, site, fresh, spec, set())
        changed = True
    return changed


def after_chain(  # noqa: PLR0917 - the service as seen before wiring, as wanted, the drains
    host: Host,
    site: SiteNetwork,
    seen: ServiceView,
    spec: ServiceSpec,
    draining: dict[str, float],
    drain_timeout_s: float,
) -> bool:
    """Once the chain is wired: every elastic VNF's instances wired and spread over, and a
    spreader left in a VNF no longer beside an elastic one removed. A service without elastic
    VNF, instance or spreader (as `seen` before the wiring) costs nothing more."""
    if not any(v.instances > 1 for v in spec.vnfs) and not any(
        split_member(name)[1] or view.spread is not None for name, view in seen.vnfs.items()
    ):
        return False
    service = read_site(host, site, spec.id).services.get(spec.id)
    if service is None:
        return False
    scaled = [v for v in spec.vnfs if v.name in spec.chain and elastic(service, v)]
    stale = [v for v in service.vnfs.values() if v.spread is not None]
    if not scaled and not stale:
        return False
    changed = False
    for vnf in scaled:
        changed = (
            scale_vnf(host, site, service, vnf, draining=draining, drain_timeout_s=drain_timeout_s)
            or changed
        )
    service = read_site(host, site, spec.id).services[spec.id]
    for view in service.vnfs.values():
        if view.spread is None:
            continue
        beside = {split_member(hop)[0] for end in view.ends
                  for hop in (end.label.left, end.label.right) if split_member(hop)[1]}  # fmt: skip
        if not beside:
            changed = sync_spreader(host, view.namespace, NO_PEER, [], []) or changed
    return changed


def delete_members(
    host: Host, site: SiteNetwork, service: ServiceView, name: str, draining: dict[str, float]
) -> bool:
    """Removes an elastic VNF's instances >= 1 (the VNF itself is the driver's to remove)."""
    changed = False
    for member in members(service, name).values():
        namespace = site.vnf_namespace(service.slot, member)
        service.forget(member)
        draining.pop(namespace, None)
        changed = teardown_vnf(host, namespace) or changed
    return changed
