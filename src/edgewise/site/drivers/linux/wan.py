"""The site's WAN links in its WAN namespace (worker thread): build them from the desired
state, and read them back for `observe`.

Per link (wanplan.LinkPlan): its interface up, its address when the desired state gives one,
its routing table (default via its gateway, unreachable default), its `fwmark` rule, the slot
label on its interface; then the source NAT table in one transaction. A DHCP link keeps the
address the host's DHCP client gave it; its gateway is the one of the default route that client
set through its interface in the main table (or, once learnt, the one recorded in its label).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any

from edgewise.model.desired import DesiredState
from edgewise.model.links import MAX_LINKS, WanLink
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.kernel import MAIN_TABLE, Netlink
from edgewise.site.drivers.linux.rtcodec import Link
from edgewise.site.drivers.linux.wanmarks import (
    PROTO_WAN,
    WanLabel,
    assign_slots,
    decode_wan_label,
    link_rule,
    link_table,
)
from edgewise.site.drivers.linux.wanplan import (
    DEFAULT_ROUTE,
    FAMILY,
    LINKS_TABLE,
    WAN_SYSCTLS,
    LinkPlan,
    link_routes,
    links_batch,
    nat_counters,
    read_marker,
    same_route,
    table_spec,
)


@dataclass
class WanLinksView:
    """The links as the kernel holds them (from their interfaces' labels alone): labels and
    interfaces by link name, the digest the NAT table was built for, and what is broken."""

    labels: dict[str, WanLabel] = field(default_factory=dict)
    interfaces: dict[str, Link] = field(default_factory=dict)
    digest: str = ""
    broken: list[str] = field(default_factory=list)
    nat: dict[str, Any] = field(default_factory=dict)


def learn_gateway(
    nl: Netlink, link: WanLink, iface: Link, label: WanLabel | None
) -> IPv4Address | None:
    if link.gateway is not None:
        return link.gateway
    for route in nl.table_routes(MAIN_TABLE):
        if (route.destination == DEFAULT_ROUTE and route.oif == iface.index
                and route.proto != PROTO_WAN and route.gateway is not None):  # fmt: skip
            return route.gateway
    return label.gateway if label is not None and label.name == link.name else None


def apply_links(host: Host, wan: str, desired: DesiredState, digest: str) -> list[LinkPlan]:
    """Makes the WAN namespace hold exactly `desired.links`; returns their plans."""
    host.write_sysctl(wan, WAN_SYSCTLS)
    plans: list[LinkPlan] = []
    with host.netlink(wan) as nl:
        ifaces = {link.name: link for link in nl.links()}
        labels = {i.name: decode_wan_label(i.alias) for i in ifaces.values()}
        recorded = {lab.name: lab.slot for lab in labels.values() if lab is not None}
        slots = assign_slots(desired.links, recorded)
        for link in desired.links:
            iface = ifaces.get(link.interface)
            if iface is None:
                raise DataPlaneError(f"link {link.name}: interface {link.interface} is not in "
                                     f"the WAN namespace {wan}", code="no-link")  # fmt: skip
            plan = build_link(nl, link, iface, slots[link.name], labels.get(iface.name))
            plans.append(plan)
        wanted = {link.interface for link in desired.links}
        for name, label in labels.items():
            if label is not None and name not in wanted:
                nl.set_link(ifaces[name].index, ifalias="")
        rules = {plan.rule for plan in plans}
        for present in nl.rules(PROTO_WAN):
            if present not in rules:
                nl.delete_rule(present)
        used = {plan.slot for plan in plans}
        for slot in range(1, MAX_LINKS + 1):
            if slot not in used:
                for route in nl.table_routes(link_table(slot)):
                    nl.delete_route(route)
    with host.nft(wan) as nft:
        if plans:
            nft.run(links_batch(plans, digest))
        elif nft.list_table(FAMILY, LINKS_TABLE) is not None:
            nft.run([{"delete": {"table": table_spec(LINKS_TABLE)}}])
    return plans


def build_link(
    nl: Netlink, link: WanLink, iface: Link, slot: int, label: WanLabel | None
) -> LinkPlan:
    """One link's interface, address, label, table and rule, as `plan` says."""
    if not iface.up:
        nl.set_link(iface.index, state="up")
    if link.address is not None and link.address not in nl.addresses(iface.index):
        nl.add_address(iface.index, link.address)
    plan = LinkPlan(link, slot, learn_gateway(nl, link, iface, label))
    alias = WanLabel(link.name, slot, plan.gateway).encode()
    if iface.alias != alias:
        nl.set_link(iface.index, ifalias=alias)
    wanted = plan.routes(iface.index)
    present = nl.table_routes(plan.table)
    for route in present:
        if not any(same_route(route, w) for w in wanted):
            nl.delete_route(route)
    for route in wanted:
        if not any(same_route(route, p) for p in present):
            nl.replace_route(route.destination, PROTO_WAN, gateway=route.gateway,
                             oif=route.oif, metric=route.metric or None, table=route.table,
                             unreachable=route.unreachable)  # fmt: skip
    nl.add_rule(plan.rule)
    return plan


def read_links(host: Host, wan: str) -> WanLinksView:
    """The links found labelled in the WAN namespace, and what is missing of each (its rule,
    its routes); the NAT table's digest and counters."""
    view = WanLinksView()
    with host.netlink(wan) as nl:
        rules = set(nl.rules(PROTO_WAN))
        for iface in nl.links():
            label = decode_wan_label(iface.alias)
            if label is None:
                continue
            view.labels[label.name] = label
            view.interfaces[label.name] = iface
            present = nl.table_routes(link_table(label.slot))
            if link_rule(label.slot) not in rules:
                view.broken.append(f"link {label.name}: its rule is gone")
            wanted = link_routes(label.slot, label.gateway, iface.index)
            if not all(any(same_route(w, p) for p in present) for w in wanted):
                view.broken.append(f"link {label.name}: a route of its table is gone")
    with host.nft(wan) as nft:
        items = nft.list_table(FAMILY, LINKS_TABLE)
    if items is not None:
        view.digest = read_marker(items, "links")
        view.nat = nat_counters(items)
        if view.labels and not view.digest:
            view.broken.append("the NAT table lost rules")
    elif view.labels:
        view.broken.append("the NAT table is gone")
    return view
