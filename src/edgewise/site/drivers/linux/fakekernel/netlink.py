"""The fake kernel's `kernel.Netlink`: the calls of netlink.RtnlNetlink on a state.Space.

Each call checks what the kernel would (link names, nexthops, peers) and raises the same
DataPlaneError; `Refusals` lets a test make a namespace's calls fail on purpose.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.fakekernel.state import (
    IFALIASZ,
    RouteState,
    Space,
    kernel_error,
)
from edgewise.site.drivers.linux.kernel import MAIN_TABLE, KernelRoute, KernelRule, Qdisc
from edgewise.site.drivers.linux.rtcodec import Link

LINK_ATTRS = frozenset({"ifalias", "group", "address", "master", "state"})


@dataclass
class Refusals:
    """Kernel calls a test makes fail: (what, namespace) -> the error's message.

    `what` is "netlink", "nftables", "create", "sysctl" or "spawn".
    """

    refused: dict[tuple[str, str], str] = field(default_factory=dict)

    def check(self, what: str, namespace: str) -> None:
        message = self.refused.get((what, namespace))
        if message is not None:
            raise DataPlaneError(f"{what} in {namespace}: {message}")


class FakeNetlink:
    """Netlink inside one fake namespace (it keeps talking to it, as a socket would)."""

    def __init__(
        self,
        space: Space,
        refusals: Refusals,
        peer_space: Callable[[int], Space | None],
        mac: Callable[[], str],
    ) -> None:
        self.space = space
        self.where = space.name
        self._refusals = refusals
        self._peer_space = peer_space  # a namespace handle (Kernel.namespace_fd) -> its space
        self._mac = mac

    def _check(self) -> None:
        self._refusals.check("netlink", self.where)

    def links(self) -> list[Link]:
        self._check()
        return [self.space.as_link(k) for k in self.space.links.values()]

    def link(self, name: str) -> Link | None:
        self._check()
        found = self.space.find(name)
        return self.space.as_link(found) if found is not None else None

    def required(self, name: str) -> Link:
        found = self.link(name)
        if found is None:
            raise DataPlaneError(f"link {name} is missing in {self.where}", code="no-link")
        return found

    def add_veth(self, name: str, peer: str, peer_netns_fd: int) -> None:
        self._check()
        what = f"creating veth {name} in {self.where}"
        other = self._peer_space(peer_netns_fd)
        if other is None:
            raise kernel_error(what, errno.EBADF)
        if other.find(peer) is not None or (other is self.space and peer == name):
            raise kernel_error(what, errno.EEXIST)
        here = self.space.add_link(name, "veth", self._mac(), what)
        try:
            there = other.add_link(peer, "veth", self._mac(), what)
        except DataPlaneError:
            self.space.delete_link(here.index)
            raise
        here.peer, there.peer = (other, there.index), (self.space, here.index)

    def add_bridge(self, name: str, alias: str) -> Link:
        self._check()
        bridge = self.space.add_link(
            name, "bridge", self._mac(), f"creating bridge {name} in {self.where}"
        )
        found = self.space.as_link(bridge)
        self.set_link(bridge.index, ifalias=alias, state="up")
        return found

    def set_link(self, index: int, **attrs: Any) -> None:
        self._check()
        unknown = set(attrs) - LINK_ATTRS
        if unknown:
            raise ValueError(f"unknown link attribute {min(unknown)}")
        what = f"setting {', '.join(attrs)} on link {index} in {self.where}"
        link = self.space.get(index, what)
        if "ifalias" in attrs and len(attrs["ifalias"]) > IFALIASZ:
            raise kernel_error(what, errno.EINVAL)
        if "master" in attrs:
            master = self.space.get(attrs["master"], what)
            if master.kind != "bridge":
                raise kernel_error(what, errno.EOPNOTSUPP)
            link.master = master.index
        if "ifalias" in attrs:
            link.alias = attrs["ifalias"] or None
        if "group" in attrs:
            link.group = int(attrs["group"])
        if "address" in attrs:
            link.mac = str(attrs["address"]).lower()
        if "state" in attrs:
            self.space.set_state(link, up=attrs["state"] == "up")

    def delete(self, index: int) -> None:
        self._check()
        self.space.delete_link(index)

    def addresses(self, index: int) -> set[IPv4Interface]:
        self._check()
        link = self.space.links.get(index)
        return set(link.addresses) if link is not None else set()

    def add_address(self, index: int, address: IPv4Interface) -> None:
        self._check()
        self.space.get(index, f"adding {address} in {self.where}").addresses.add(address)

    def routes(self, proto: int) -> list[KernelRoute]:
        self._check()
        return self.space.kernel_routes(proto)

    def replace_route(
        self,
        destination: IPv4Network,
        proto: int,
        *,
        gateway: IPv4Address | None = None,
        oif: int | None = None,
        metric: int | None = None,
        table: int = MAIN_TABLE,
        unreachable: bool = False,
    ) -> None:
        self._check()
        what = f"adding route {destination} in {self.where}"
        out = 0 if unreachable else self.space.nexthop(gateway, oif, what)
        route = RouteState(destination, gateway, proto, out, metric or 0, table, unreachable)
        self.space.add_route(route)

    def delete_route(self, route: KernelRoute) -> None:
        self._check()
        for present in self.space.routes:
            if (
                present.destination == route.destination
                and present.proto == route.proto
                and present.table == route.table
                and (route.gateway is None or present.gateway == route.gateway)
                and (not route.metric or present.metric == route.metric)
            ):
                self.space.routes.remove(present)
                return

    def table_routes(self, table: int) -> list[KernelRoute]:
        self._check()
        return [r.as_kernel() for r in self.space.routes if r.table == table]

    def rules(self, proto: int) -> list[KernelRule]:
        self._check()
        return [r for r in self.space.rules if r.proto == proto]

    def add_rule(self, rule: KernelRule) -> None:
        self._check()
        if rule not in self.space.rules:
            self.space.rules.append(rule)

    def delete_rule(self, rule: KernelRule) -> None:
        self._check()
        if rule in self.space.rules:
            self.space.rules.remove(rule)

    def qdiscs(self) -> list[Qdisc]:
        self._check()
        return list(self.space.qdiscs.values())

    def replace_tbf(
        self, index: int, handle: int, rate_bps: int, burst_bytes: int, latency_ms: int
    ) -> None:
        self._check()
        what = f"setting a token bucket on link {index} in {self.where}"
        self.space.get(index, what)
        if rate_bps <= 0 or burst_bytes <= 0 or latency_ms <= 0:
            raise kernel_error(what, errno.EINVAL)
        self.space.qdiscs[index] = Qdisc(
            index, handle, root=True, kind="tbf", rate_bytes=rate_bps // 8
        )

    def delete_root_qdisc(self, index: int) -> None:
        self._check()
        self.space.qdiscs.pop(index, None)
