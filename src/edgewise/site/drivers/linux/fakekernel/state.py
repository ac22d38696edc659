"""The fake kernel's objects (no I/O): namespaces holding links, addresses, routes, qdiscs and
nftables tables, with the few rules of the real kernel the driver relies on.

- a veth end has carrier when it and its peer are up; deleting one end deletes the other, and
  removing a namespace deletes its links (so the peers of its veths go too);
- a link set down or deleted takes its routes with it (IPv4 flushes them), a route needs its
  gateway on the subnet of an up link, and a link name fits 15 characters, once per namespace;
- the loopback gets 127.0.0.1/8 when it comes up.
Failures are DataPlaneError with the errno name as code, as netlink.py raises them.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.kernel import MAIN_TABLE, KernelRoute, KernelRule, Qdisc
from edgewise.site.drivers.linux.rtcodec import Link

IFNAMSIZ = 15  # characters of a link name
IFALIASZ = 255  # characters of a link alias
LOOPBACK = 1
LOOPBACK_ADDRESS = IPv4Interface("127.0.0.1/8")


def kernel_error(what: str, code: int) -> DataPlaneError:
    """What netlink.netlink_errors makes of the errno `code`."""
    name = errno.errorcode.get(code, str(code))
    return DataPlaneError(f"{what}: {os.strerror(code)}", code=name.lower())


@dataclass(eq=False)
class LinkState:
    index: int
    name: str
    kind: str | None  # "veth", "bridge"; None for the loopback
    up: bool = False
    alias: str | None = None
    group: int = 0
    master: int | None = None
    mac: str | None = None
    peer: tuple[Space, int] | None = None  # a veth's other end: its namespace and index
    addresses: set[IPv4Interface] = field(default_factory=set)


@dataclass(frozen=True)
class RouteState:
    destination: IPv4Network
    gateway: IPv4Address | None
    proto: int
    oif: int  # 0 for an unreachable route
    metric: int = 0
    table: int = MAIN_TABLE
    unreachable: bool = False

    def as_kernel(self) -> KernelRoute:
        oif = self.oif or None
        return KernelRoute(self.destination, self.gateway, self.proto, oif, self.table,
                           self.unreachable, self.metric)  # fmt: skip


@dataclass
class Table:
    """An nftables table as listed: its chains, named counters and rules (JSON objects)."""

    family: str
    name: str
    handle: int
    chains: list[dict[str, Any]] = field(default_factory=list)
    counters: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    maps: list[dict[str, Any]] = field(default_factory=list)


@dataclass(eq=False)
class Space:
    """One network namespace: a new one holds a loopback (index 1), down."""

    name: str
    inode: int
    links: dict[int, LinkState] = field(default_factory=dict)
    routes: list[RouteState] = field(default_factory=list)
    qdiscs: dict[int, Qdisc] = field(default_factory=dict)
    tables: dict[tuple[str, str], Table] = field(default_factory=dict)
    rules: list[KernelRule] = field(default_factory=list)
    conntrack_deleted: list[tuple[int, int]] = field(default_factory=list)  # (mark, mask)
    transactions: list[list[dict[str, Any]]] = field(default_factory=list)  # nftables batches
    sysctls: dict[str, str] = field(default_factory=dict)
    next_index: int = LOOPBACK + 1
    alive: bool = True  # False once removed (a kept handle then talks to a ghost)

    def __post_init__(self) -> None:
        self.links[LOOPBACK] = LinkState(LOOPBACK, "lo", None)

    # reading

    def find(self, name: str) -> LinkState | None:
        return next((k for k in self.links.values() if k.name == name), None)

    def get(self, index: int, what: str) -> LinkState:
        found = self.links.get(index)
        if found is None:
            raise kernel_error(what, errno.ENODEV)
        return found

    def carrier(self, link: LinkState) -> bool:
        """What netlink reports as operstate up (or unknown, for the loopback)."""
        if not link.up:
            return False
        if link.kind == "veth":
            peer = self.peer_of(link)
            return peer is not None and peer.up
        if link.kind == "bridge":
            return any(p.master == link.index and self.carrier(p) for p in self.links.values())
        return True

    def peer_of(self, link: LinkState) -> LinkState | None:
        if link.peer is None:
            return None
        space, index = link.peer
        return space.links.get(index)

    def as_link(self, link: LinkState) -> Link:
        return Link(
            link.index,
            link.name,
            link.kind,
            link.alias,
            link.up,
            self.carrier(link),
            link.group,
            link.master,
            link.mac,
        )

    def kernel_routes(self, proto: int) -> list[KernelRoute]:
        return [
            KernelRoute(r.destination, r.gateway, r.proto, r.oif)
            for r in self.routes
            if r.proto == proto and r.table == MAIN_TABLE
        ]

    # changing

    def add_link(self, name: str, kind: str, mac: str | None, what: str) -> LinkState:
        if len(name) > IFNAMSIZ or not name:
            raise kernel_error(what, errno.EINVAL)
        if self.find(name) is not None:
            raise kernel_error(what, errno.EEXIST)
        link = LinkState(self.next_index, name, kind, mac=mac)
        self.links[link.index] = link
        self.next_index += 1
        return link

    def set_state(self, link: LinkState, *, up: bool) -> None:
        link.up = up
        if up and link.index == LOOPBACK:  # as the kernel does, the first time
            link.addresses.add(LOOPBACK_ADDRESS)
        if not up:  # IPv4 flushes the routes of a link that goes down
            self.routes = [r for r in self.routes if r.oif != link.index]

    def delete_link(self, index: int) -> None:
        """Deletes a link with its routes, addresses and qdisc (and a veth's peer)."""
        link = self.links.pop(index, None)
        if link is None:
            return
        self.routes = [r for r in self.routes if r.oif != index]
        self.qdiscs.pop(index, None)
        for port in self.links.values():
            if port.master == index:
                port.master = None
        if link.peer is not None:
            space, peer = link.peer
            link.peer = None
            space.delete_link(peer)

    def remove(self) -> None:
        """The namespace goes: its veths take their peers with them."""
        for index in list(self.links):
            self.delete_link(index)
        self.alive = False

    def add_route(self, route: RouteState) -> None:
        """Adds or replaces (same table, destination and metric, as NLM_F_REPLACE) a route."""
        key = (route.table, route.destination, route.metric)
        self.routes = [r for r in self.routes if (r.table, r.destination, r.metric) != key]
        self.routes.append(route)

    def nexthop(self, gateway: IPv4Address | None, oif: int | None, what: str) -> int:
        """The link a route goes out of, as the kernel checks it."""
        if oif is not None:
            link = self.get(oif, what)
            if not link.up:
                raise kernel_error(what, errno.ENETDOWN)
            if gateway is None or any(gateway in a.network for a in link.addresses):
                return oif
            raise kernel_error(what, errno.ENETUNREACH)
        if gateway is None:
            raise kernel_error(what, errno.EINVAL)
        for link in self.links.values():
            if link.up and any(gateway in a.network for a in link.addresses):
                return link.index
        raise kernel_error(what, errno.ENETUNREACH)
