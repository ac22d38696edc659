"""Wiring a service's chain (worker thread): veth links in chain order, addresses, routes.

Link k joins hop k and hop k+1 of LAN side, VNF 1..n, WAN side. A link whose two ends are in
place is kept (and its settings checked); any other labelled link end of the service is deleted
and the missing links are created with fresh names. Then each hop's routes are made exactly
what `layout.chain_routes` says.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface

from edgewise.model.desired import ServiceSpec, VnfFunction
from edgewise.site.drivers.linux.errors import DataPlaneError, VnfConfigError
from edgewise.site.drivers.linux.functions import function_config
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.layout import (
    GROUP_LAN,
    GROUP_WAN,
    LAN_HOP,
    MAX_CHAIN,
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
)
from edgewise.site.drivers.linux.netlink import KernelRoute, Netlink
from edgewise.site.drivers.linux.survey import ServiceView
from edgewise.site.drivers.linux.vnfs import set_static_routes
from edgewise.tosca.native import NatConfig, RouterConfig


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
    if len(spec.chain) > MAX_CHAIN:
        raise VnfConfigError(f"chain of {len(spec.chain)} VNFs: at most {MAX_CHAIN} per service")
    missing = [name for name in spec.chain if name not in service.vnfs]
    if missing:
        raise DataPlaneError(f"the chain names VNFs not on the data plane: {', '.join(missing)}")
    changed = ensure_bridge(host, site, service)
    wanted = chain_links(spec.id, spec.chain)
    kept: dict[int, str] = {}
    whole = service.whole_links()
    by_token: dict[str, list[tuple[str, int]]] = {}
    for end in service.ends:
        by_token.setdefault(end.label.token, []).append((end.namespace, end.link.index))
    for token, ends in by_token.items():
        label = next(e.label for e in service.ends if e.label.token == token)
        if (
            token in whole
            and label.index < len(wanted)
            and label.same_place(wanted[label.index])
            and label.index not in kept
        ):
            kept[label.index] = token
            continue
        for namespace, index in ends:
            with host.netlink(namespace) as nl:
                nl.delete(index)
        changed = True
    for link in wanted:
        token = kept.get(link.index) or secrets.token_hex(4)
        if link.index not in kept:
            create_link(host, site, service.slot, link, token)
            changed = True
        for spec_end in end_specs(site, service, link, token):
            changed = configure_end(host, spec_end) or changed
    return set_routes(host, site, service, spec) or changed


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


def configure_end(host: Host, end: EndSpec) -> bool:
    """Sets what differs of one link end's alias, group, MAC, bridge, address and state."""
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
            master = nl.required(end.master)
            if link.master != master.index:
                attrs["master"] = master.index
        if attrs:
            nl.set_link(link.index, **attrs)
        added = False
        if end.address is not None and end.address not in nl.addresses(link.index):
            nl.add_address(link.index, end.address)
            added = True
        if not link.up:
            nl.up(link.index)
        return bool(attrs) or added or not link.up


def set_routes(host: Host, site: SiteNetwork, service: ServiceView, spec: ServiceSpec) -> bool:
    nats: dict[int, IPv4Address | None] = {}
    routers: dict[str, RouterConfig] = {}
    for position, name in enumerate(spec.chain, start=1):
        vnf = spec.vnf(name)
        assert vnf is not None
        if vnf.function is VnfFunction.NAT:
            config = function_config(vnf.function, vnf.config)
            assert isinstance(config, NatConfig)
            nats[position] = IPv4Address(config.source_address) if config.source_address else None
        elif vnf.function is VnfFunction.ROUTER:
            router = function_config(vnf.function, vnf.config)
            assert isinstance(router, RouterConfig)
            routers[name] = router
    routes = chain_routes(site, service.slot, spec.chain, nats)
    changed = False
    for name in spec.chain:
        with host.netlink(site.vnf_namespace(service.slot, name)) as nl:
            changed = sync_routes(nl, routes[name], nl.routes(PROTO_CHAIN)) or changed
            if name in routers:
                changed = set_static_routes(nl, routers[name]) or changed
    block = site.transit_block(service.slot)
    with host.netlink(site.wan_netns) as nl:
        mine = [r for r in nl.routes(PROTO_CHAIN) if r.gateway is not None and r.gateway in block]
        return sync_routes(nl, routes.get(WAN_HOP, []), mine) or changed


def sync_routes(nl: Netlink, wanted: Sequence[Route], present: Sequence[KernelRoute]) -> bool:
    """Deletes the `present` routes not `wanted` and adds the missing ones."""
    want = {(r.destination, r.gateway) for r in wanted}
    have = {(r.destination, r.gateway) for r in present}
    for route in present:
        if (route.destination, route.gateway) not in want:
            nl.delete_route(route)
    for new in wanted:
        if (new.destination, new.gateway) not in have:
            nl.replace_route(new.destination, PROTO_CHAIN, gateway=new.gateway)
    return want != have
