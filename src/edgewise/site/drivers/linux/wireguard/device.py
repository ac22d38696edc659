"""The kernel side of an overlay device (namespace worker thread, inside its namespace): MTU,
inner address, up, and the routes of its peers' prefixes in the table it is given; plus
`steer_routes`, which points prefixes at one device (what the steering engine does on failover).

Netlink through the linux driver's RtnlSocket; every route here carries a protocol number of
the overlay's own, so a pass removes what it put there before and nothing else.
"""

from __future__ import annotations

import errno
import time
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from pyroute2.netlink.rtnl import (  # type: ignore[import-untyped]
    RTM_DELADDR,
    RTM_DELROUTE,
    RTM_GETROUTE,
    RTM_NEWROUTE,
    RTM_SETLINK,
)

from edgewise.site.drivers.linux import rtcodec as rt
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.netlink import (
    NLM_F_CREATE,
    NLM_F_REPLACE,
    RT_SCOPE_LINK,
    RT_SCOPE_NOWHERE,
    RTN_UNICAST,
    RtnlNetlink,
    netlink_errors,
)

PROTO_OVERLAY = 190  # routes to an overlay device's peers' prefixes, in its table
PROTO_STEER = 191  # routes `steer_routes` points at the preferred device
IFLA_MTU = 4
LINK_WAIT_S = 3.0
COMPAT_TABLE = 252  # rtm_table of a table above 255 (its number goes in RTA_TABLE)


def wait_for_link(net: RtnlNetlink, name: str) -> rt.Link:
    """The link `name`, waiting a moment for wireguard-go to have made its TUN."""
    deadline = time.monotonic() + LINK_WAIT_S
    while (found := net.link(name)) is None:
        if time.monotonic() > deadline:
            raise DataPlaneError(f"overlay link {name} did not appear in {net.where}")
        time.sleep(0.01)
    return found


def configure_link(net: RtnlNetlink, name: str, mtu: int, address: IPv4Interface) -> int:
    """MTU, exactly one inner address, up; the link's index."""
    link = wait_for_link(net, name)
    with netlink_errors(f"setting the MTU of {name} in {net.where}"):
        net.rtnl.change(RTM_SETLINK, rt.ifinfo(link.index) + rt.attr_u32(IFLA_MTU, mtu))
    have = net.addresses(link.index)
    for stale in have - {address}:
        body = rt.ifaddr(link.index, stale.network.prefixlen) + rt.attr(
            rt.IFA_LOCAL, stale.ip.packed
        )
        with netlink_errors(f"removing {stale} from {name}", errno.EADDRNOTAVAIL):
            net.rtnl.change(RTM_DELADDR, body)
    if address not in have:
        net.add_address(link.index, address)
    if not link.up:
        net.up(link.index)
    return link.index


def _route_body(prefix: IPv4Network, table: int, proto: int, scope: int, kind: int) -> bytes:
    body = rt.rtmsg(prefix.prefixlen, table if table < 256 else COMPAT_TABLE, proto, scope, kind)
    return (
        body + rt.attr(rt.RTA_DST, prefix.network_address.packed) + rt.attr_u32(rt.RTA_TABLE, table)
    )


def routes_of(net: RtnlNetlink, proto: int) -> list[tuple[IPv4Network, int, int | None]]:
    """(destination, table, output link index) of the routes of `proto`, in every table."""
    with netlink_errors(f"listing routes in {net.where}"):
        found = []
        for payload in net.rtnl.dump(RTM_GETROUTE, rt.rtmsg(0, 0, proto, 0, 0)):
            route = rt.decode_route(payload)
            if route.proto == proto:
                destination = route.destination or IPv4Address(0)
                found.append((IPv4Network((destination, route.dst_len)), route.table, route.oif))
        return found


def replace_route(
    net: RtnlNetlink, prefix: IPv4Network, index: int, table: int, *, proto: int, metric: int
) -> None:
    body = _route_body(prefix, table, proto, RT_SCOPE_LINK, RTN_UNICAST)
    body += rt.attr_u32(rt.RTA_OIF, index) + rt.attr_u32(rt.RTA_PRIORITY, metric)
    with netlink_errors(f"routing {prefix} to link {index} in table {table} in {net.where}"):
        net.rtnl.change(RTM_NEWROUTE, body, NLM_F_CREATE | NLM_F_REPLACE)


def delete_route(
    net: RtnlNetlink, prefix: IPv4Network, index: int | None, table: int, proto: int
) -> None:
    body = _route_body(prefix, table, proto, RT_SCOPE_NOWHERE, 0)
    if index is not None:
        body += rt.attr_u32(rt.RTA_OIF, index)
    with netlink_errors(f"removing the route to {prefix} in {net.where}", errno.ESRCH):
        net.rtnl.change(RTM_DELROUTE, body)


def sync_routes(
    net: RtnlNetlink, index: int, prefixes: list[IPv4Network], table: int | None, metric: int
) -> None:
    """Routes `prefixes` into link `index` in `table` (None: nowhere); removes the device's
    routes that are wanted no more, in any table (the table may have changed)."""
    for prefix, where, oif in routes_of(net, PROTO_OVERLAY):
        if oif == index and (where != table or prefix not in prefixes):
            delete_route(net, prefix, oif, where, PROTO_OVERLAY)
    if table is not None:
        for prefix in prefixes:
            replace_route(net, prefix, index, table, proto=PROTO_OVERLAY, metric=metric)


def steer_routes(
    net: RtnlNetlink, device: str, prefixes: list[IPv4Network], table: int, metric: int = 0
) -> None:
    """Points `prefixes` at overlay link `device` in `table` (replacing where they pointed):
    a flow between the two sites' LANs keeps its inner addresses, so it survives the move."""
    link = net.required(device)
    for prefix in prefixes:
        replace_route(net, prefix, link.index, table, proto=PROTO_STEER, metric=metric)


def route_exactly(
    net: RtnlNetlink, table: int, routes: dict[str, list[IPv4Network]], metric: int = 0
) -> None:
    """Makes the steered routes in `table` exactly `routes` (device -> its prefixes): each
    pointed at its device, and the steered ones of `table` wanted no more removed. A moved
    prefix is replaced in place, never deleted first: a packet in between would find no
    route to the peer (a key rotation moves routes under traffic and may lose none)."""
    indexes = {device: net.required(device).index for device in routes}
    wanted = {
        (prefix, indexes[device]) for device, prefixes in routes.items() for prefix in prefixes
    }
    for prefix, index in sorted(wanted, key=str):
        replace_route(net, prefix, index, table, proto=PROTO_STEER, metric=metric)
    for prefix, where, oif in routes_of(net, PROTO_STEER):
        if where == table and (prefix, oif) not in wanted:
            delete_route(net, prefix, oif, where, PROTO_STEER)
