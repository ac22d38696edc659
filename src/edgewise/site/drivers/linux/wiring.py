"""Wiring a service's chain (worker thread): veth links in chain order, addresses, routes.

Link k joins hop k and hop k+1 of LAN side, VNF 1..n, WAN side. A link whose two ends are in
place is kept (and its settings checked); any other labelled link end of the service is deleted
and the missing links are created with fresh names. Then each hop's routes are made exactly
what `layout.chain_routes` says, once every new or changed link end is in service.

A veth end brought up before its peer gets its transmit queue only when the kernel's link
watcher (a work item, run later, under the rtnl lock) sees the carrier come: until then it drops
what it sends. An ARP request lost that way stalls the first connections for a second (the ARP
retry time), so routes go in only when the kernel reports the ends up (operstate).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from edgewise.model.desired import ServiceSpec, VnfFunction
from edgewise.model.functions import NatConfig, RateLimiterConfig, RouterConfig
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.kernel import KernelRoute, Netlink
from edgewise.site.drivers.linux.layout import (
    GROUP_LAN,
    GROUP_WAN,
    LAN_HOP,
    PROTO_CHAIN,
    WAN_HOP,
    LinkLabel,
    Route,
    SiteNetwork,
    chain_links,
    chain_routes,
    left_end,
    right_end,
    service_label,
    split_member,
)
from edgewise.site.drivers.linux.shaping import apply_shaping
from edgewise.site.drivers.linux.survey import ServiceView
from edgewise.site.drivers.linux.vnfs import restart_process, set_static_routes

Subnets = dict[str, list[tuple[IPv4Network, int]]]
IN_SERVICE_WAIT_S = 1.0


@dataclass(frozen=True)
class EndSpec:
    namespace: str
    name: str
    alias: str
    group: int = 0
    address: IPv4Interface | None = None
    mac: str | None = None
    master: str | None = None


def wire_service(host: Host, site: SiteNetwork, service: ServiceView, spec: ServiceSpec) -> bool:
    """Makes the kernel's links and routes match `spec.chain`; True when something changed."""
    missing = [name for name in spec.chain if name not in service.vnfs]
    if missing:
        raise DataPlaneError(f"the chain names VNFs not on the data plane: {', '.join(missing)}")
    changed = ensure_bridge(host, site, service)
    wanted = chain_links(spec.id, spec.chain)
    kept: dict[int, str] = {}
    whole = service.whole_links()
    by_token: dict[str, list[tuple[str, int, str]]] = {}
    for end in service.ends:
        by_token.setdefault(end.label.token, []).append(
            (end.namespace, end.link.index, end.link.name)
        )
    for token, ends in by_token.items():
        label = next(e.label for e in service.ends if e.label.token == token)
        if split_member(label.left)[1] or split_member(label.right)[1]:
            continue  # an elastic VNF's instance >= 1: instances.py wires it
        if (
            token in whole
            and label.index < len(wanted)
            and label.same_place(wanted[label.index])
            and label.index not in kept
        ):
            kept[label.index] = token
            continue
        for namespace, index, name in ends:
            host.delete_link(namespace, index, name)
        changed = True
    wan_fresh = False  # the WAN side's end of the service is new: no old routes to list
    subnets: Subnets = {}  # per namespace: the link ends' subnets and interface indexes
    relinked: set[str] = set()  # hops with a new link
    starting: list[tuple[str, str]] = []  # (namespace, name) of link ends new or changed
    for link in wanted:
        token = kept.get(link.index) or secrets.token_hex(4)
        fresh = link.index not in kept
        if fresh:
            create_link(host, site, service.slot, link, token)
            relinked |= {link.left, link.right}
            changed = True
        for spec_end in end_specs(site, service, link, token):
            done, index = configure_end(host, spec_end, service, fresh=fresh)
            changed = done or changed
            if fresh or done:
                starting.append((spec_end.namespace, spec_end.name))
            if spec_end.address is not None:
                subnets.setdefault(spec_end.namespace, []).append((spec_end.address.network, index))
            if spec_end.namespace == site.wan_netns:
                wan_fresh = fresh
    wait_in_service(host, starting)
    changed = set_routes(host, site, service, spec, subnets, wan_fresh=wan_fresh) or changed
    for name in spec.chain:  # a program sees the interfaces it had when it started
        vnf = spec.vnf(name)
        if vnf is not None and vnf.function is VnfFunction.PROCESS and name in relinked:
            restart_process(host, site.vnf_namespace(service.slot, name), vnf, died=False)
    return changed


def wait_in_service(host: Host, ends: Sequence[tuple[str, str]]) -> None:
    """Waits until the kernel reports each link end up (operstate), IN_SERVICE_WAIT_S at most
    in all (then the routes go in anyway: the ARP retry will do)."""
    deadline = time.monotonic() + IN_SERVICE_WAIT_S
    for namespace, name in ends:
        with host.netlink(namespace) as nl:
            while (link := nl.link(name)) is not None and not link.carrier:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.0005)


def ensure_bridge(host: Host, site: SiteNetwork, service: ServiceView) -> bool:
    if service.bridge is not None:
        return False
    with host.netlink(site.lan_netns) as nl:
        nl.add_bridge(site.bridge(service.slot), service_label(service.service_id))
    return True


def hop_namespace(site: SiteNetwork, slot: int, hop: str) -> str:
    if hop == LAN_HOP:
        return site.lan_netns
    if hop == WAN_HOP:
        return site.wan_netns
    return site.vnf_namespace(slot, hop)


def create_link(host: Host, site: SiteNetwork, slot: int, link: LinkLabel, token: str) -> None:
    left, right = site.link_ends(token)
    with host.namespace_fd(hop_namespace(site, slot, link.right)) as fd:  # noqa: SIM117
        with host.netlink(hop_namespace(site, slot, link.left)) as nl:
            nl.add_veth(left, right, fd)


def end_specs(
    site: SiteNetwork, service: ServiceView, link: LinkLabel, token: str
) -> tuple[EndSpec, EndSpec]:
    slot, k = service.slot, link.index
    left_name, right_name = site.link_ends(token)
    alias = link.encode()
    left_ns, right_ns = hop_namespace(site, slot, link.left), hop_namespace(site, slot, link.right)
    if link.left == LAN_HOP:
        left = EndSpec(left_ns, left_name, alias, master=site.bridge(slot))
    else:
        left = EndSpec(left_ns, left_name, alias, GROUP_WAN, left_end(site.transit_link(slot, k)))
    if link.right == WAN_HOP:
        right = EndSpec(right_ns, right_name, alias, address=right_end(site.transit_link(slot, k)))
    elif k == 0:
        gateway, mac = site.lan_gateway(slot), site.gateway_mac(slot)
        right = EndSpec(right_ns, right_name, alias, GROUP_LAN, gateway, mac)
    else:
        right = EndSpec(
            right_ns, right_name, alias, GROUP_LAN, right_end(site.transit_link(slot, k))
        )
    return left, right


def configure_end(
    host: Host, end: EndSpec, service: ServiceView, *, fresh: bool = False
) -> tuple[bool, int]:
    """Sets what differs of one link end's alias, group, MAC, bridge, address and state.

    A `fresh` end (just created) has no address yet: it is added without listing addresses.
    Returns whether something changed, and the end's interface index.
    """
    with host.netlink(end.namespace) as nl:
        link = nl.required(end.name)
        attrs: dict[str, object] = {}
        if link.alias != end.alias:
            attrs["ifalias"] = end.alias
        if link.group != end.group:
            attrs["group"] = end.group
        if end.mac is not None and link.mac != end.mac:
            attrs["address"] = end.mac
        if end.master is not None:
            bridge = service.bridge
            master = bridge.index if bridge is not None else nl.required(end.master).index
            if link.master != master:
                attrs["master"] = master
        if not link.up:
            attrs["state"] = "up"
        if attrs:
            nl.set_link(link.index, **attrs)
        added = False
        if end.address is not None and (fresh or end.address not in nl.addresses(link.index)):
            nl.add_address(link.index, end.address)
            added = True
        return bool(attrs) or added, link.index


def set_routes(
    host: Host,
    site: SiteNetwork,
    service: ServiceView,
    spec: ServiceSpec,
    subnets: Subnets,
    *,
    wan_fresh: bool = False,
) -> bool:
    """Each hop's chain routes, each bound to the link end its gateway is on.

    Binding matters when a neighbour was just rebuilt: the old veth (same addresses) lingers
    for some 40 ms, and a route left on it would die with it.

    The WAN side holds every service's routes: they are listed only when the service's WAN end
    was kept (a fresh end has none: the routes of an old one died with it).
    """
    nats: dict[int, IPv4Address | None] = {}
    routers: dict[str, RouterConfig] = {}
    shapers: dict[str, RateLimiterConfig] = {}
    for position, name in enumerate(spec.chain, start=1):
        vnf = spec.vnf(name)
        assert vnf is not None
        config = vnf.config
        if isinstance(config, NatConfig):
            nats[position] = config.source_address
        elif isinstance(config, RouterConfig):
            routers[name] = config
        elif isinstance(config, RateLimiterConfig):
            shapers[name] = config
    routes = chain_routes(site, service.slot, spec.chain, nats)
    changed = False
    for name in spec.chain:
        namespace = site.vnf_namespace(service.slot, name)
        with host.netlink(namespace) as nl:
            ends = subnets.get(namespace, [])
            changed = sync_routes(nl, routes[name], nl.routes(PROTO_CHAIN), ends) or changed
            if name in routers:
                changed = set_static_routes(nl, routers[name]) or changed
            if name in shapers:
                changed = apply_shaping(nl, shapers[name]) or changed
    block = site.transit_block(service.slot)
    with host.netlink(site.wan_netns) as nl:
        mine = (
            []
            if wan_fresh
            else [r for r in nl.routes(PROTO_CHAIN) if r.gateway is not None and r.gateway in block]
        )
        ends = subnets.get(site.wan_netns, [])
        return sync_routes(nl, routes.get(WAN_HOP, []), mine, ends) or changed


def sync_routes(
    nl: Netlink,
    wanted: Sequence[Route],
    present: Sequence[KernelRoute],
    ends: Sequence[tuple[IPv4Network, int]] = (),
) -> bool:
    """Deletes the `present` routes not `wanted`, and sets those missing or on another link."""
    want = {(r.destination, r.gateway): oif_for(r.gateway, ends) for r in wanted}
    changed = False
    for route in present:
        if (route.destination, route.gateway) not in want:
            nl.delete_route(route)
            changed = True
    for (destination, gateway), oif in want.items():
        if not any(
            p.destination == destination and p.gateway == gateway and oif in (None, p.oif)
            for p in present
        ):
            nl.replace_route(destination, PROTO_CHAIN, gateway=gateway, oif=oif)
            changed = True
    return changed


def oif_for(gateway: IPv4Address, ends: Sequence[tuple[IPv4Network, int]]) -> int | None:
    return next((index for subnet, index in ends if gateway in subnet), None)
