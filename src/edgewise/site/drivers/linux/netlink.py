"""Netlink in the worker's current namespace, through pyroute2's IPRoute (no `ip` subprocess).

`Netlink` is what the rest of the driver uses: links, addresses, routes, each call wrapped so
that a pyroute2 NetlinkError becomes a DataPlaneError saying what was being done.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from pyroute2 import IPRoute  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from edgewise.site.drivers.linux.errors import DataPlaneError

IFF_UP = 0x1
MAIN_TABLE = 254


@dataclass(frozen=True)
class Link:
    index: int
    name: str
    kind: str | None
    alias: str | None
    up: bool
    carrier: bool
    group: int
    master: int | None
    mac: str | None


@dataclass(frozen=True)
class KernelRoute:
    destination: IPv4Network
    gateway: IPv4Address | None
    proto: int
    oif: int | None


@contextlib.contextmanager
def netlink_errors(what: str, *ignore: int) -> Iterator[None]:
    """Converts pyroute2's errors into DataPlaneError; errno values in `ignore` pass silently."""
    try:
        yield
    except NetlinkError as exc:
        if exc.code in ignore:
            return
        name = errno.errorcode.get(exc.code, str(exc.code))
        raise DataPlaneError(f"{what}: {os.strerror(exc.code)}", code=name.lower()) from exc
    except OSError as exc:
        raise DataPlaneError(f"{what}: {exc}") from exc


@contextlib.contextmanager
def open_netlink(where: str) -> Iterator[Netlink]:
    """A netlink socket in the worker's current namespace (`where` names it in errors)."""
    with netlink_errors(f"opening netlink in {where}"):
        ipr = IPRoute()
    try:
        yield Netlink(ipr, where)
    finally:
        ipr.close()


def _link(msg: Any) -> Link:
    info = msg.get_attr("IFLA_LINKINFO")
    return Link(
        index=msg["index"],
        name=msg.get_attr("IFLA_IFNAME"),
        kind=info.get_attr("IFLA_INFO_KIND") if info is not None else None,
        alias=msg.get_attr("IFLA_IFALIAS"),
        up=bool(msg["flags"] & IFF_UP),
        carrier=msg.get_attr("IFLA_OPERSTATE") in ("UP", "UNKNOWN"),
        group=msg.get_attr("IFLA_GROUP") or 0,
        master=msg.get_attr("IFLA_MASTER"),
        mac=msg.get_attr("IFLA_ADDRESS"),
    )


class Netlink:
    def __init__(self, ipr: Any, where: str) -> None:
        self.ipr = ipr
        self.where = where

    def links(self) -> list[Link]:
        with netlink_errors(f"listing links in {self.where}"):
            return [_link(m) for m in self.ipr.get_links()]

    def link(self, name: str) -> Link | None:
        try:
            with netlink_errors(f"reading link {name} in {self.where}"):
                return _link(self.ipr.link("get", ifname=name)[0])
        except DataPlaneError as exc:
            if exc.code in ("enodev", "enoent"):
                return None
            raise

    def required(self, name: str) -> Link:
        found = self.link(name)
        if found is None:
            raise DataPlaneError(f"link {name} is missing in {self.where}", code="no-link")
        return found

    def add_veth(self, name: str, peer: str, peer_netns_fd: int) -> int:
        """Creates a veth pair here whose peer end lives in the namespace of `peer_netns_fd`."""
        with netlink_errors(f"creating veth {name} in {self.where}"):
            self.ipr.link(
                "add", ifname=name, kind="veth", peer={"ifname": peer, "net_ns_fd": peer_netns_fd}
            )
        found = self.link(name)
        if found is None:
            raise DataPlaneError(f"veth {name} vanished in {self.where}")
        return found.index

    def add_bridge(self, name: str, alias: str) -> None:
        with netlink_errors(f"creating bridge {name} in {self.where}"):
            self.ipr.link("add", ifname=name, kind="bridge")
        found = self.link(name)
        if found is None:
            raise DataPlaneError(f"bridge {name} vanished in {self.where}")
        self.set_link(found.index, ifalias=alias)
        self.up(found.index)

    def set_link(self, index: int, **attrs: Any) -> None:
        with netlink_errors(f"setting {', '.join(attrs)} on link {index} in {self.where}"):
            self.ipr.link("set", index=index, **attrs)

    def up(self, index: int) -> None:
        self.set_link(index, state="up")

    def delete(self, index: int) -> None:
        """Deletes a link; one already gone (a veth whose peer went first) is not an error."""
        with netlink_errors(f"deleting link {index} in {self.where}", errno.ENODEV):
            self.ipr.link("del", index=index)

    def addresses(self, index: int) -> set[IPv4Interface]:
        with netlink_errors(f"listing addresses in {self.where}"):
            return {
                IPv4Interface((m.get_attr("IFA_ADDRESS"), m["prefixlen"]))
                for m in self.ipr.get_addr(family=socket.AF_INET, index=index)
            }

    def add_address(self, index: int, address: IPv4Interface) -> None:
        with netlink_errors(f"adding {address} in {self.where}", errno.EEXIST):
            self.ipr.addr(
                "add", index=index, address=str(address.ip), prefixlen=address.network.prefixlen
            )

    def routes(self, proto: int) -> list[KernelRoute]:
        with netlink_errors(f"listing routes in {self.where}"):
            found = []
            for m in self.ipr.get_routes(family=socket.AF_INET, table=MAIN_TABLE):
                if m["proto"] != proto:
                    continue
                dst = m.get_attr("RTA_DST") or "0.0.0.0"  # noqa: S104 - the default route
                gateway = m.get_attr("RTA_GATEWAY")
                found.append(
                    KernelRoute(
                        IPv4Network((dst, m["dst_len"])),
                        IPv4Address(gateway) if gateway else None,
                        proto,
                        m.get_attr("RTA_OIF"),
                    )
                )
            return found

    def replace_route(
        self,
        destination: IPv4Network,
        proto: int,
        *,
        gateway: IPv4Address | None = None,
        oif: int | None = None,
        metric: int | None = None,
    ) -> None:
        spec: dict[str, Any] = {
            "dst": str(destination.network_address),
            "dst_len": destination.prefixlen,
            "proto": proto,
            "table": MAIN_TABLE,
        }
        if gateway is not None:
            spec["gateway"] = str(gateway)
        if oif is not None:
            spec["oif"] = oif
        if metric is not None:
            spec["priority"] = metric
        with netlink_errors(f"adding route {destination} in {self.where}"):
            self.ipr.route("replace", **spec)

    def delete_route(self, route: KernelRoute) -> None:
        spec: dict[str, Any] = {
            "dst": str(route.destination.network_address),
            "dst_len": route.destination.prefixlen,
            "proto": route.proto,
            "table": MAIN_TABLE,
        }
        if route.gateway is not None:
            spec["gateway"] = str(route.gateway)
        with netlink_errors(f"deleting route {route.destination} in {self.where}", errno.ESRCH):
            self.ipr.route("del", **spec)
