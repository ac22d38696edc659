"""Netlink in the worker's current namespace (no `ip` subprocess): links, addresses, routes.

`RtnlNetlink` is the real `kernel.Netlink` (the seam the rest of the driver uses); it talks
through rtnl.RtnlSocket with messages packed and parsed in rtcodec.py (tc messages with
pyroute2's classes), and wraps each call so that a NetlinkError becomes a DataPlaneError saying
what was being done.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]
from pyroute2.netlink.rtnl import (  # type: ignore[import-untyped]
    RTM_DELLINK,
    RTM_DELQDISC,
    RTM_DELROUTE,
    RTM_DELRULE,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETQDISC,
    RTM_GETROUTE,
    RTM_GETRULE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWQDISC,
    RTM_NEWROUTE,
    RTM_NEWRULE,
    RTM_SETLINK,
)
from pyroute2.netlink.rtnl.tcmsg import sched_tbf, tcmsg  # type: ignore[import-untyped]

from edgewise.site.drivers.linux import rtcodec as rt
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.kernel import MAIN_TABLE, KernelRoute, KernelRule, Qdisc
from edgewise.site.drivers.linux.rtcodec import Link
from edgewise.site.drivers.linux.rtnl import RtnlSocket

NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RT_SCOPE_NOWHERE = 255
RTN_UNICAST = 1
RTN_UNREACHABLE = 7
TC_H_ROOT = 0xFFFFFFFF


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
def open_netlink(where: str) -> Iterator[RtnlNetlink]:
    """A netlink socket in the worker's current namespace (`where` names it in errors)."""
    with netlink_errors(f"opening netlink in {where}"):
        rtnl = RtnlSocket()
    try:
        yield RtnlNetlink(rtnl, where)
    finally:
        rtnl.close()


def _link_attrs(attrs: dict[str, Any]) -> bytes:
    """`ifname`, `ifalias`, `group`, `address`, `master` and `linkinfo` (bytes) as attributes."""
    packed = b""
    for key, value in attrs.items():
        if key == "ifname":
            packed += rt.attr_str(rt.IFLA_IFNAME, value)
        elif key == "ifalias":
            packed += rt.attr_str(rt.IFLA_IFALIAS, value)
        elif key == "group":
            packed += rt.attr_u32(rt.IFLA_GROUP, value)
        elif key == "master":
            packed += rt.attr_u32(rt.IFLA_MASTER, value)
        elif key == "address":
            packed += rt.attr(rt.IFLA_ADDRESS, rt.mac_bytes(value))
        elif key == "linkinfo":
            packed += value
        else:
            raise ValueError(f"unknown link attribute {key}")
    return packed


def _route(
    destination: IPv4Network,
    proto: int,
    gateway: IPv4Address | None,
    table: int = MAIN_TABLE,
    *,
    unreachable: bool = False,
) -> bytes:
    scope = RT_SCOPE_UNIVERSE if gateway is not None or unreachable else RT_SCOPE_LINK
    kind = RTN_UNREACHABLE if unreachable else RTN_UNICAST
    body = rt.rtmsg(destination.prefixlen, table if table < 256 else 0, proto, scope, kind)
    body += rt.attr_u32(rt.RTA_TABLE, table)
    body += rt.attr(rt.RTA_DST, destination.network_address.packed)
    if gateway is not None:
        body += rt.attr(rt.RTA_GATEWAY, gateway.packed)
    return body


def _tc_body(msg: Any) -> bytes:
    """The body of a pyroute2 tc message (without its netlink header)."""
    msg.encode()
    return bytes(msg.data[rt.HEADER.size :])


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


class RtnlNetlink:
    """`kernel.Netlink` over an RtnlSocket in the namespace it was opened in."""

    def __init__(self, rtnl: RtnlSocket, where: str) -> None:
        self.rtnl = rtnl
        self.where = where

    def links(self) -> list[Link]:
        with netlink_errors(f"listing links in {self.where}"):
            return [rt.decode_link(m) for m in self.rtnl.dump(RTM_GETLINK, rt.ifinfo())]

    def link(self, name: str) -> Link | None:
        try:
            with netlink_errors(f"reading link {name} in {self.where}"):
                body = rt.ifinfo() + rt.attr_str(rt.IFLA_IFNAME, name)
                return rt.decode_link(self.rtnl.get(RTM_GETLINK, body))
        except DataPlaneError as exc:
            if exc.code in ("enodev", "enoent"):
                return None
            raise

    def required(self, name: str) -> Link:
        found = self.link(name)
        if found is None:
            raise DataPlaneError(f"link {name} is missing in {self.where}", code="no-link")
        return found

    def add_veth(self, name: str, peer: str, peer_netns_fd: int) -> None:
        """Creates a veth pair here whose peer end lives in the namespace of `peer_netns_fd`."""
        body = rt.ifinfo() + rt.attr_str(rt.IFLA_IFNAME, name) + rt.veth_info(peer, peer_netns_fd)
        with netlink_errors(f"creating veth {name} in {self.where}"):
            self.rtnl.change(RTM_NEWLINK, body, NLM_F_CREATE | NLM_F_EXCL)

    def add_bridge(self, name: str, alias: str) -> Link:
        body = rt.ifinfo() + rt.attr_str(rt.IFLA_IFNAME, name) + rt.kind_info("bridge")
        with netlink_errors(f"creating bridge {name} in {self.where}"):
            self.rtnl.change(RTM_NEWLINK, body, NLM_F_CREATE | NLM_F_EXCL)
        found = self.link(name)
        if found is None:
            raise DataPlaneError(f"bridge {name} vanished in {self.where}")
        self.set_link(found.index, ifalias=alias, state="up")
        return found

    def set_link(self, index: int, **attrs: Any) -> None:
        """Sets `ifalias`, `group`, `address`, `master` and `state` ("up"/"down") of a link."""
        with netlink_errors(f"setting {', '.join(attrs)} on link {index} in {self.where}"):
            state = attrs.pop("state", None)
            body = rt.ifinfo(index, up=None if state is None else state == "up")
            self.rtnl.change(RTM_SETLINK, body + _link_attrs(attrs))

    def up(self, index: int) -> None:
        self.set_link(index, state="up")

    def delete(self, index: int) -> None:
        """Deletes a link; one already gone (a veth whose peer went first) is not an error."""
        with netlink_errors(f"deleting link {index} in {self.where}", errno.ENODEV):
            self.rtnl.change(RTM_DELLINK, rt.ifinfo(index))

    def addresses(self, index: int) -> set[IPv4Interface]:
        # the socket asks for strict checking: the kernel filters by index
        with netlink_errors(f"listing addresses in {self.where}"):
            found = set()
            for payload in self.rtnl.dump(RTM_GETADDR, rt.ifaddr(index)):
                where, prefixlen, address = rt.decode_address(payload)
                if where == index and address is not None:
                    found.add(IPv4Interface((address, prefixlen)))
            return found

    def add_address(self, index: int, address: IPv4Interface) -> None:
        body = rt.ifaddr(index, address.network.prefixlen)
        body += rt.attr(rt.IFA_LOCAL, address.ip.packed) + rt.attr(
            rt.IFA_ADDRESS, address.ip.packed
        )
        with netlink_errors(f"adding {address} in {self.where}", errno.EEXIST):
            self.rtnl.change(RTM_NEWADDR, body, NLM_F_CREATE | NLM_F_EXCL)

    def routes(self, proto: int) -> list[KernelRoute]:
        # filtered by the kernel (strict checking), and checked again
        body = rt.rtmsg(0, MAIN_TABLE, proto, 0, 0)
        with netlink_errors(f"listing routes in {self.where}"):
            found = []
            for payload in self.rtnl.dump(RTM_GETROUTE, body):
                route = rt.decode_route(payload)
                if route.proto != proto or route.table != MAIN_TABLE:
                    continue
                destination = route.destination or IPv4Address(0)  # the default route
                found.append(
                    KernelRoute(
                        IPv4Network((destination, route.dst_len)),
                        route.gateway,
                        proto,
                        route.oif,
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
        table: int = MAIN_TABLE,
        unreachable: bool = False,
    ) -> None:
        body = _route(destination, proto, gateway, table, unreachable=unreachable)
        if oif is not None:
            body += rt.attr_u32(rt.RTA_OIF, oif)
        if metric is not None:
            body += rt.attr_u32(rt.RTA_PRIORITY, metric)
        with netlink_errors(f"adding route {destination} in {self.where}"):
            self.rtnl.change(RTM_NEWROUTE, body, NLM_F_CREATE | NLM_F_REPLACE)

    def delete_route(self, route: KernelRoute) -> None:
        # scope "nowhere" and type 0: a delete matches any scope and type with them
        table = route.table
        body = rt.rtmsg(
            route.destination.prefixlen, table if table < 256 else 0, route.proto,
            RT_SCOPE_NOWHERE, RTN_UNREACHABLE if route.unreachable else 0,
        )  # fmt: skip
        body += rt.attr_u32(rt.RTA_TABLE, table)
        body += rt.attr(rt.RTA_DST, route.destination.network_address.packed)
        if route.gateway is not None:
            body += rt.attr(rt.RTA_GATEWAY, route.gateway.packed)
        if route.metric:
            body += rt.attr_u32(rt.RTA_PRIORITY, route.metric)
        with netlink_errors(f"deleting route {route.destination} in {self.where}", errno.ESRCH):
            self.rtnl.change(RTM_DELROUTE, body)

    def table_routes(self, table: int) -> list[KernelRoute]:
        # filtered by the kernel (strict checking: RTA_TABLE in a dump request), checked again
        body = rt.rtmsg(0, 0, 0, 0, 0) + rt.attr_u32(rt.RTA_TABLE, table)
        with netlink_errors(f"listing routes of table {table} in {self.where}"):
            found = []
            for payload in self.rtnl.dump(RTM_GETROUTE, body):
                route = rt.decode_route(payload)
                if route.table != table or route.kind not in (RTN_UNICAST, RTN_UNREACHABLE):
                    continue
                destination = route.destination or IPv4Address(0)
                network = IPv4Network((destination, route.dst_len))
                unreachable = route.kind == RTN_UNREACHABLE
                found.append(KernelRoute(network, route.gateway, route.proto, route.oif, table,
                                         unreachable, route.metric))  # fmt: skip
            return found

    def rules(self, proto: int) -> list[KernelRule]:
        with netlink_errors(f"listing rules in {self.where}"):
            found = []
            for payload in self.rtnl.dump(RTM_GETRULE, rt.rtmsg(0, 0, 0, 0, 0)):
                rule = rt.decode_rule(payload)
                if rule.proto == proto:
                    found.append(
                        KernelRule(rule.priority, rule.fwmark, rule.fwmask, rule.table, proto)
                    )
            return found

    def add_rule(self, rule: KernelRule) -> None:
        body = rt.fib_rule(rule.table, rule.proto, rule.priority, rule.fwmark, rule.fwmask)
        with netlink_errors(f"adding rule fwmark {rule.fwmark:#x} in {self.where}", errno.EEXIST):
            self.rtnl.change(RTM_NEWRULE, body, NLM_F_CREATE | NLM_F_EXCL)

    def delete_rule(self, rule: KernelRule) -> None:
        body = rt.fib_rule(rule.table, rule.proto, rule.priority, rule.fwmark, rule.fwmask)
        what = f"deleting rule fwmark {rule.fwmark:#x} in {self.where}"
        with netlink_errors(what, errno.ENOENT):
            self.rtnl.change(RTM_DELRULE, body)

    def qdiscs(self) -> list[Qdisc]:
        msg = tcmsg()
        msg["family"] = socket.AF_UNSPEC
        with netlink_errors(f"listing qdiscs in {self.where}"):
            found = []
            for payload in self.rtnl.dump(RTM_GETQDISC, _tc_body(msg)):
                reply = tcmsg(rt.message(RTM_NEWQDISC, 0, 0, payload))
                reply.decode()
                found.append(_qdisc(reply))
            return found

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
            self.rtnl.change(RTM_NEWQDISC, _tc_body(msg), NLM_F_CREATE | NLM_F_REPLACE)

    def delete_root_qdisc(self, index: int) -> None:
        msg = tcmsg()
        msg["family"] = socket.AF_UNSPEC
        msg["index"] = index
        msg["parent"] = TC_H_ROOT
        with netlink_errors(f"removing the qdisc of link {index} in {self.where}", errno.ENOENT):
            self.rtnl.change(RTM_DELQDISC, _tc_body(msg))
