"""An elastic VNF's instances (worker thread): built, wired beside instance 0, drained, removed.

Instance 0 of VNF `fw` is its namespace as ever; instance i >= 1 is the hop `fw+i`, a namespace
built the same way (layout.member_name). Each is wired between the same two neighbours as
instance 0, with the same addresses (every instance is alone in its namespace; the neighbour
holds its address once per leg) and a copy of instance 0's chain routes; the neighbours' spreader
(spread.py) hashes new flows over the active instances. Scale-in drains: the leaving instance
takes no new flow, and is removed once the neighbours' conntrack has no live flow marked for it,
or when the drain timeout has passed (whichever comes first); until then the VNF is reported
with its instance still there, so the reconcile passes come back to it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace

from edgewise.model.desired import VnfSpec
from edgewise.model.functions import ProcessConfig, RateLimiterConfig, RouterConfig
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.kernel import SoftwareRunner
from edgewise.site.drivers.linux.layout import (
    PROTO_CHAIN,
    LinkLabel,
    Route,
    SiteNetwork,
    VnfLabel,
    decode_label,
    left_end,
    member_name,
    right_end,
    split_member,
)
from edgewise.site.drivers.linux.shaping import apply_shaping
from edgewise.site.drivers.linux.spread import Leg, live_flows, sync_spreader
from edgewise.site.drivers.linux.survey import ServiceView, VnfView
from edgewise.site.drivers.linux.vnfs import (
    build_vnf,
    configure_vnf,
    set_static_routes,
    teardown_vnf,
)
from edgewise.site.drivers.linux.wiring import (
    configure_end,
    create_link,
    end_specs,
    hop_namespace,
    sync_routes,
    wait_in_service,
)

DRAIN_TIMEOUT_S = 30.0  # default; LinuxDriver(drain_timeout_s=...) sets it, at most MAX_DRAIN_S
MAX_DRAIN_S = 3600.0


@dataclass(frozen=True)
class Sides:
    """Where instance 0 of a VNF is wired: its left link (index, hop) and its right link."""

    left_index: int
    left_hop: str
    right_index: int
    right_hop: str


def members(service: ServiceView, vnf: str) -> dict[int, str]:
    """The instances >= 1 of `vnf` on the data plane: hop name by instance number."""
    found = {}
    for name in service.vnfs:
        base, instance = split_member(name)
        if base == vnf and instance > 0:
            found[instance] = name
    return found


def elastic(service: ServiceView, spec: VnfSpec) -> bool:
    """The VNF runs, or is to run, as several instances (or still drains one)."""
    return spec.instances > 1 or bool(members(service, spec.name))


def build_members(
    host: Host, site: SiteNetwork, service: ServiceView, spec: VnfSpec,
    software: SoftwareRunner | None = None,
) -> bool:  # fmt: skip
    """Builds the missing instances 1..N-1 (not wired yet: `wire_members`)."""
    changed = False
    present = members(service, spec.name)
    for instance in range(1, spec.instances):
        if instance in present:
            continue
        name = member_name(spec.name, instance)
        namespace = site.vnf_namespace(service.slot, name)
        teardown_vnf(host, namespace, software)  # an unlabelled leftover under its name
        build_vnf(host, namespace, service.service_id, replace(spec, name=name, instances=1))
        service.vnfs[name] = VnfView(namespace, service.slot,
                                     VnfLabel(service.service_id, name, spec.function.value),
                                     (spec.function.value, spec.ruleset_digest()))  # fmt: skip
        changed = True
    return changed


def configure_members(host: Host, service: ServiceView, spec: VnfSpec) -> bool:
    """Loads `spec`'s config into every instance >= 1 that does not run it, or lacks a part."""
    changed = False
    for name in members(service, spec.name).values():
        view = service.vnfs[name]
        if view.healthy and view.running_config(spec):
            continue
        configure_vnf(host, view.namespace, spec)
        view.marker = (spec.function.value, spec.ruleset_digest())
        view.shaping_ok = view.process_ok = True
        changed = True
    return changed


def sides(service: ServiceView, vnf: str) -> Sides:
    """Where instance 0 is wired; DataPlaneError when it is not (the chain wires it first)."""
    base = service.vnfs.get(vnf)
    whole = service.whole_links()
    labels = [ends[0].label for ends in whole.values()]
    left = next((lb for lb in labels if lb.right == vnf), None)
    right = next((lb for lb in labels if lb.left == vnf), None)
    if base is None or left is None or right is None:
        raise DataPlaneError(f"VNF {vnf} is not wired: its instances wait for the chain")
    return Sides(left.index, left.left, right.index, right.right)


def wire_members(
    host: Host, site: SiteNetwork, service: ServiceView, spec: VnfSpec, draining: set[str]
) -> bool:
    """Each instance >= 1 linked to both neighbours, with instance 0's routes, and the
    neighbours spreading new flows over the instances not `draining`."""
    at = sides(service, spec.name)
    slot = service.slot
    whole = service.whole_links()
    kept = {(e[0].label.index, e[0].label.left, e[0].label.right) for e in whole.values()}
    changed = False
    starting: list[tuple[str, str]] = []
    present = members(service, spec.name)
    sid = service.service_id
    for name in present.values():
        wanted = (LinkLabel(sid, at.left_index, at.left_hop, name),
                  LinkLabel(sid, at.right_index, name, at.right_hop))  # fmt: skip
        for link in wanted:
            if (link.index, link.left, link.right) in kept:
                continue
            for end in [e for e in service.ends if e.label.same_place(link)]:
                host.delete_link(end.namespace, end.link.index, end.link.name)
            token = secrets.token_hex(4)
            create_link(host, site, slot, link, token)
            for end_spec in end_specs(site, service, link, token):
                configure_end(host, end_spec, service, fresh=True)
                starting.append((end_spec.namespace, end_spec.name))
            changed = True
    wait_in_service(host, starting)
    base_ns = site.vnf_namespace(slot, spec.name)
    with host.netlink(base_ns) as nl:
        routes = [Route(r.destination, r.gateway) for r in nl.routes(PROTO_CHAIN)
                  if r.gateway is not None]  # fmt: skip
    left_net = site.transit_link(slot, at.left_index)
    right_net = site.transit_link(slot, at.right_index)
    for name in present.values():
        with host.netlink(site.vnf_namespace(slot, name)) as nl:
            ends = []
            for leg in nl.links():
                label = decode_label(leg.alias)
                if isinstance(label, LinkLabel):
                    ends.append((left_net if label.right == name else right_net, leg.index))
            changed = sync_routes(nl, routes, nl.routes(PROTO_CHAIN), ends) or changed
            config = spec.config
            if isinstance(config, RouterConfig):
                changed = set_static_routes(nl, config) or changed
            elif isinstance(config, RateLimiterConfig):
                changed = apply_shaping(nl, config) or changed
        if isinstance(spec.config, ProcessConfig) and starting:
            host.processes.start(site.vnf_namespace(slot, name), spec.config, restart=False)
    left_peer = right_end(left_net).ip
    right_peer = left_end(right_net).ip
    for hop, peer in ((at.left_hop, left_peer), (at.right_hop, right_peer)):
        namespace = hop_namespace(site, slot, hop)
        legs = neighbour_legs(host, namespace, spec.name)
        active = [leg.instance for leg in legs
                  if member_name(spec.name, leg.instance) not in draining]  # fmt: skip
        changed = sync_spreader(host, namespace, peer, legs, active or [0]) or changed
    return changed


def neighbour_legs(host: Host, namespace: str, vnf: str) -> list[Leg]:
    """The legs of the neighbour `namespace` towards the instances of `vnf`, read back."""
    legs = []
    with host.netlink(namespace) as nl:
        for link in nl.links():
            label = decode_label(link.alias)
            if not isinstance(label, LinkLabel):
                continue
            for hop in (label.left, label.right):
                base, instance = split_member(hop)
                if base == vnf:
                    legs.append(Leg(instance, link.name, link.index))
    return sorted(legs, key=lambda leg: leg.instance)


def drain(
    host: Host,
    site: SiteNetwork,
    service: ServiceView,
    spec: VnfSpec,
    *,
    draining: dict[str, float],
    timeout_s: float,
) -> bool:
    """Instances beyond `spec.instances`: each starts draining (recorded in `draining`, the
    driver's, by namespace); a drained one (no live flow left in either neighbour, or
    `timeout_s` passed) is removed. True when something changed."""
    at = sides(service, spec.name)
    now = time.monotonic()
    changed = False
    for instance, name in sorted(members(service, spec.name).items()):
        namespace = site.vnf_namespace(service.slot, name)
        if instance < spec.instances:
            draining.pop(namespace, None)  # scaled out again while it drained
            continue
        started = draining.setdefault(namespace, now)
        if now - started < timeout_s and flows_on(host, site, service.slot, at, instance):
            continue
        for end in service.vnfs[name].ends:  # its veths go now, not when the kernel gets to it
            host.delete_link(end.namespace, end.link.index, end.link.name)
        service.forget(name)
        teardown_vnf(host, namespace)
        draining.pop(namespace, None)
        changed = True
    return changed


def flows_on(host: Host, site: SiteNetwork, slot: int, at: Sides, instance: int) -> int:
    """Live flows marked for `instance` in the two neighbours."""
    return sum(
        live_flows(host, hop_namespace(site, slot, hop), instance)
        for hop in (at.left_hop, at.right_hop)
    )


def draining_names(service: ServiceView, draining: dict[str, float]) -> set[str]:
    """The hop names of `service`'s instances that drain."""
    return {name for name, view in service.vnfs.items() if view.namespace in draining}
