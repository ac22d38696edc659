"""Netlink in the worker's current namespace (no `ip` subprocess): links, addresses, routes.

`Netlink` is what the rest of the driver uses; it talks through rtnl.RtnlSocket with pyroute2's
message classes, and wraps each call so that a NetlinkError becomes a DataPlaneError saying what
was being done.
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

from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]
from pyroute2.netlink.rtnl import (  # type: ignore[import-untyped]
    RTM_DELLINK,
    RTM_DELQDISC,
    RTM_DELROUTE,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETQDISC,
    RTM_GETROUTE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWQDISC,
    RTM_NEWROUTE,
    RTM_SETLINK,
)
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg  # type: ignore[import-untyped]
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg  # type: ignore[import-untyped]
from pyroute2.netlink.rtnl.rtmsg import rtmsg  # type: ignore[import-untyped]
from pyroute2.netlink.rtnl.tcmsg import sched_tbf, tcmsg  # type: ignore[import-untyped]

from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.rtnl import RtnlSocket

NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RT_SCOPE_NOWHERE = 255
RTN_UNICAST = 1
TC_H_ROOT = 0xFFFFFFFF
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
class Qdisc:
    index: int
    handle: int
    root: bool
    kind: str | None
    rate_bytes: int | None = None  # a token bucket's rate, bytes per second
    packets: int = 0
    bytes: int = 0
    drops: int = 0


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
        rtnl = RtnlSocket()
    try:
        yield Netlink(rtnl, where)
    finally:
        rtnl.close()


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


def _ifinfmsg(index: int = 0, **attrs: Any) -> Any:
    msg = ifinfmsg()
    msg["family"] = socket.AF_UNSPEC
    msg["index"] = index
    state = attrs.pop("state", None)
    if state is not None:
        msg["flags"] = IFF_UP if state == "up" else 0
        msg["change"] = IFF_UP
    names = {"ifname": "IFLA_IFNAME", "ifalias": "IFLA_IFALIAS", "group": "IFLA_GROUP"}
    names |= {"address": "IFLA_ADDRESS", "master": "IFLA_MASTER", "linkinfo": "IFLA_LINKINFO"}
    msg["attrs"] = [(names[key], value) for key, value in attrs.items()]
    return msg


def _rtmsg(destination: IPv4Network, proto: int, gateway: IPv4Address | None) -> Any:
    msg = rtmsg()
    msg["family"] = socket.AF_INET
    msg["dst_len"] = destination.prefixlen
    msg["table"] = MAIN_TABLE
    msg["proto"] = proto
    msg["scope"] = RT_SCOPE_UNIVERSE if gateway is not None else RT_SCOPE_LINK
    msg["type"] = RTN_UNICAST
    attrs: list[tuple[str, Any]] = [("RTA_DST", str(destination.network_address))]
    if gateway is not None:
        attrs.append(("RTA_GATEWAY", str(gateway)))
    msg["attrs"] = attrs
    return msg


def _qdisc(msg: Any) -> Qdisc:
    kind = msg.get_attr("TCA_KIND")
    rate = None
    if kind == "tbf":
        options = msg.get_attr("TCA_OPTIONS")
        parms = options.get_attr("TCA_TBF_PARMS") if options is not None else None
        rate = parms["rate"] if parms is not None else None
    stats = msg.get_attr("TCA_STATS")
    sent = (stats["packets"], stats["bytes"], stats["drop"]) if stats is not None else (0, 0, 0)
    return Qdisc(msg["index"], msg["handle"], msg["parent"] == TC_H_ROOT, kind, rate, *sent)


class Netlink:
    def __init__(self, rtnl: RtnlSocket, where: str) -> None:
        self.rtnl = rtnl
        self.where = where

    def links(self) -> list[Link]:
        with netlink_errors(f"listing links in {self.where}"):
            return [_link(m) for m in self.rtnl.dump(_ifinfmsg(), RTM_GETLINK, ifinfmsg)]

    def link(self, name: str) -> Link | None:
        try:
            with netlink_errors(f"reading link {name} in {self.where}"):
                return _link(self.rtnl.get(_ifinfmsg(ifname=name), RTM_GETLINK, ifinfmsg))
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
        peer_spec = {"attrs": [("IFLA_IFNAME", peer), ("IFLA_NET_NS_FD", peer_netns_fd)]}
        info = {
            "attrs": [
                ("IFLA_INFO_KIND", "veth"),
                ("IFLA_INFO_DATA", {"attrs": [("VETH_INFO_PEER", peer_spec)]}),
            ]
        }
        with netlink_errors(f"creating veth {name} in {self.where}"):
            self.rtnl.change(
                _ifinfmsg(ifname=name, linkinfo=info), RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL
            )
        found = self.link(name)
        if found is None:
            raise DataPlaneError(f"veth {name} vanished in {self.where}")
        return found.index

    def add_bridge(self, name: str, alias: str) -> Link:
        info = {"attrs": [("IFLA_INFO_KIND", "bridge")]}
        with netlink_errors(f"creating bridge {name} in {self.where}"):
            self.rtnl.change(
                _ifinfmsg(ifname=name, linkinfo=info), RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL
            )
        found = self.link(name)
        if found is None:
            raise DataPlaneError(f"bridge {name} vanished in {self.where}")
        self.set_link(found.index, ifalias=alias, state="up")
        return found

    def set_link(self, index: int, **attrs: Any) -> None:
        """Sets `ifalias`, `group`, `address`, `master` and `state` ("up"/"down") of a link."""
        with netlink_errors(f"setting {', '.join(attrs)} on link {index} in {self.where}"):
            self.rtnl.change(_ifinfmsg(index, **attrs), RTM_SETLINK)

    def up(self, index: int) -> None:
        self.set_link(index, state="up")

    def delete(self, index: int) -> None:
        """Deletes a link; one already gone (a veth whose peer went first) is not an error."""
        with netlink_errors(f"deleting link {index} in {self.where}", errno.ENODEV):
            self.rtnl.change(_ifinfmsg(index), RTM_DELLINK)

    def addresses(self, index: int) -> set[IPv4Interface]:
        msg = ifaddrmsg()
        msg["family"] = socket.AF_INET
        msg["index"] = index  # the socket asks for strict checking: the kernel filters
        with netlink_errors(f"listing addresses in {self.where}"):
            return {
                IPv4Interface((m.get_attr("IFA_ADDRESS"), m["prefixlen"]))
                for m in self.rtnl.dump(msg, RTM_GETADDR, ifaddrmsg)
                if m["index"] == index
            }

    def add_address(self, index: int, address: IPv4Interface) -> None:
        msg = ifaddrmsg()
        msg["family"] = socket.AF_INET
        msg["prefixlen"] = address.network.prefixlen
        msg["index"] = index
        msg["attrs"] = [("IFA_LOCAL", str(address.ip)), ("IFA_ADDRESS", str(address.ip))]
        with netlink_errors(f"adding {address} in {self.where}", errno.EEXIST):
            self.rtnl.change(msg, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL)

    def routes(self, proto: int) -> list[KernelRoute]:
        msg = rtmsg()
        msg["family"] = socket.AF_INET
        msg["table"] = MAIN_TABLE
        msg["proto"] = proto  # filtered by the kernel (strict checking), and checked again
        with netlink_errors(f"listing routes in {self.where}"):
            found = []
            for m in self.rtnl.dump(msg, RTM_GETROUTE, rtmsg):
                if m["proto"] != proto or m["table"] != MAIN_TABLE:
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
        msg = _rtmsg(destination, proto, gateway)
        if oif is not None:
            msg["attrs"].append(("RTA_OIF", oif))
        if metric is not None:
            msg["attrs"].append(("RTA_PRIORITY", metric))
        with netlink_errors(f"adding route {destination} in {self.where}"):
            self.rtnl.change(msg, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE)

    def delete_route(self, route: KernelRoute) -> None:
        msg = _rtmsg(route.destination, route.proto, route.gateway)
        msg["scope"] = RT_SCOPE_NOWHERE  # a delete matches any scope with this one
        msg["type"] = 0
        with netlink_errors(f"deleting route {route.destination} in {self.where}", errno.ESRCH):
            self.rtnl.change(msg, RTM_DELROUTE)

    def qdiscs(self) -> list[Qdisc]:
        msg = tcmsg()
        msg["family"] = socket.AF_UNSPEC
        with netlink_errors(f"listing qdiscs in {self.where}"):
            return [_qdisc(m) for m in self.rtnl.dump(msg, RTM_GETQDISC, tcmsg)]

    def replace_tbf(
        self, index: int, handle: int, rate_bps: int, burst_bytes: int, latency_ms: int
    ) -> None:
        """Sets (or replaces) a token bucket filter as the root qdisc of link `index`."""
        msg = tcmsg()
        msg["family"] = socket.AF_UNSPEC
        msg["index"] = index
        msg["handle"] = handle
        msg["parent"] = TC_H_ROOT
        options = sched_tbf.get_parameters(
            {"rate": f"{rate_bps}bit", "burst": burst_bytes, "latency": f"{latency_ms}ms"}
        )
        msg["attrs"] = [("TCA_KIND", "tbf"), ("TCA_OPTIONS", options)]
        with netlink_errors(f"setting a token bucket on link {index} in {self.where}"):
            self.rtnl.change(msg, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE)

    def delete_root_qdisc(self, index: int) -> None:
        msg = tcmsg()
        msg["family"] = socket.AF_UNSPEC
        msg["index"] = index
        msg["parent"] = TC_H_ROOT
        with netlink_errors(f"removing the qdisc of link {index} in {self.where}", errno.ENOENT):
            self.rtnl.change(msg, RTM_DELQDISC)
