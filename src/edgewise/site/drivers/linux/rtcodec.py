"""Netlink messages as bytes (pure): headers, attributes, and the rtnetlink ones the driver uses.

pyroute2's message classes cost some 0.3 ms to encode and as much to decode a message in
Python; the driver sends thousands per build, so links, addresses and routes are packed and
parsed here with `struct` (tc messages still go through pyroute2: few, and their rate tables
are pyroute2's work). Only what the driver reads is decoded.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address

HEADER = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
IFINFO = struct.Struct("=BxHiII")  # family, type, index, flags, change
IFADDR = struct.Struct("=BBBBi")  # family, prefix length, flags, scope, index
RTMSG = struct.Struct(
    "=BBBBBBBBI"
)  # family, dst_len, src_len, tos, table, proto, scope, type, flags
NLA = struct.Struct("=HH")
NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF

IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MASTER = 10
IFLA_OPERSTATE = 16
IFLA_LINKINFO = 18
IFLA_IFALIAS = 20
IFLA_GROUP = 27
IFLA_NET_NS_FD = 28
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
VETH_INFO_PEER = 1
IF_OPER_UNKNOWN, IF_OPER_UP = 0, 6
IFA_ADDRESS = 1
IFA_LOCAL = 2
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_PRIORITY = 6
RTA_TABLE = 15
FRA_PRIORITY = 6
FRA_FWMARK = 10
FRA_TABLE = 15
FRA_FWMASK = 16
FRA_PROTOCOL = 21
FR_ACT_TO_TBL = 1


def message(kind: int, flags: int, sequence: int, body: bytes) -> bytes:
    return HEADER.pack(HEADER.size + len(body), kind, flags, sequence, 0) + body


def messages(data: bytes) -> Iterator[tuple[int, int, int, bytes]]:
    """(type, flags, sequence, payload) of each netlink message in one datagram."""
    offset = 0
    while offset + HEADER.size <= len(data):
        length, kind, flags, sequence, _ = HEADER.unpack_from(data, offset)
        if length < HEADER.size:
            return
        yield kind, flags, sequence, data[offset + HEADER.size : offset + length]
        offset += (length + 3) & ~3


def attr(kind: int, value: bytes) -> bytes:
    size = NLA.size + len(value)
    return NLA.pack(size, kind) + value + b"\0" * (-size % 4)


def attr_u32(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack("=I", value))


def attr_str(kind: int, value: str) -> bytes:
    return attr(kind, value.encode() + b"\0")


def nested(kind: int, *values: bytes) -> bytes:
    return attr(kind | NLA_F_NESTED, b"".join(values))


def attributes(data: bytes, offset: int = 0) -> Iterator[tuple[int, bytes]]:
    """(type, value) of the attributes from `offset` on."""
    while offset + NLA.size <= len(data):
        length, kind = NLA.unpack_from(data, offset)
        if length < NLA.size:
            return
        yield kind & NLA_TYPE_MASK, data[offset + NLA.size : offset + length]
        offset += (length + 3) & ~3


def text(value: bytes) -> str:
    return value.split(b"\0", 1)[0].decode(errors="replace")


def u32(value: bytes) -> int:
    return int(struct.unpack_from("=I", value)[0])


def ipv4(value: bytes) -> IPv4Address:
    return IPv4Address(value[:4])


def mac_text(value: bytes) -> str:
    return ":".join(f"{b:02x}" for b in value)


def mac_bytes(value: str) -> bytes:
    return bytes(int(part, 16) for part in value.split(":"))


# links


def ifinfo(index: int = 0, *, up: bool | None = None) -> bytes:
    flags = 1 if up else 0
    change = 1 if up is not None else 0
    return IFINFO.pack(socket.AF_UNSPEC, 0, index, flags, change)


@dataclass(frozen=True)
class Link:
    """What the driver reads of a link."""

    index: int
    name: str
    kind: str | None
    alias: str | None
    up: bool
    carrier: bool
    group: int
    master: int | None
    mac: str | None


LINK_WANTED = frozenset(
    {
        IFLA_IFNAME,
        IFLA_IFALIAS,
        IFLA_GROUP,
        IFLA_MASTER,
        IFLA_OPERSTATE,
        IFLA_ADDRESS,
        IFLA_LINKINFO,
    }
)


def decode_link(payload: bytes) -> Link:
    """The link's fields the driver reads; the other 40-odd attributes (stats...) are skipped
    without being copied (this runs for every link of every namespace at each observe)."""
    _, _, index, flags, _ = IFINFO.unpack_from(payload)
    found: dict[int, bytes] = {}
    offset, end, unpack = IFINFO.size, len(payload), NLA.unpack_from
    while offset + 4 <= end:
        length, kind = unpack(payload, offset)
        if length < 4:
            break
        kind &= NLA_TYPE_MASK
        if kind in LINK_WANTED:
            found[kind] = payload[offset + 4 : offset + length]
        offset += (length + 3) & ~3
    info = found.get(IFLA_LINKINFO)
    kind_name = (
        next((text(v) for k, v in attributes(info) if k == IFLA_INFO_KIND), None) if info else None
    )
    operstate = found.get(IFLA_OPERSTATE, b"\xff")[0]  # (the kernel always tells it)
    mac = found.get(IFLA_ADDRESS)
    return Link(
        index,
        text(found.get(IFLA_IFNAME, b"")),
        kind_name,
        text(found[IFLA_IFALIAS]) if IFLA_IFALIAS in found else None,
        bool(flags & 1),
        operstate in (IF_OPER_UP, IF_OPER_UNKNOWN),
        u32(found[IFLA_GROUP]) if IFLA_GROUP in found else 0,
        u32(found[IFLA_MASTER]) if IFLA_MASTER in found else None,
        mac_text(mac) if mac is not None else None,
    )


def veth_info(peer: str, peer_netns_fd: int) -> bytes:
    peer_body = ifinfo() + attr_str(IFLA_IFNAME, peer) + attr_u32(IFLA_NET_NS_FD, peer_netns_fd)
    return nested(
        IFLA_LINKINFO,
        attr_str(IFLA_INFO_KIND, "veth"),
        nested(IFLA_INFO_DATA, nested(VETH_INFO_PEER, peer_body)),
    )


def kind_info(kind: str) -> bytes:
    return nested(IFLA_LINKINFO, attr_str(IFLA_INFO_KIND, kind))


# addresses and routes


def ifaddr(index: int, prefixlen: int = 0) -> bytes:
    return IFADDR.pack(socket.AF_INET, prefixlen, 0, 0, index)


def decode_address(payload: bytes) -> tuple[int, int, IPv4Address | None]:
    """(interface index, prefix length, address) of an RTM_NEWADDR."""
    family, prefixlen, _, _, index = IFADDR.unpack_from(payload)
    address = None
    if family == socket.AF_INET:
        for key, value in attributes(payload, IFADDR.size):
            if key == IFA_ADDRESS:
                address = ipv4(value)
    return index, prefixlen, address


def rtmsg(dst_len: int, table: int, proto: int, scope: int, kind: int) -> bytes:
    return RTMSG.pack(socket.AF_INET, dst_len, 0, 0, table, proto, scope, kind, 0)


@dataclass(frozen=True)
class RouteInfo:
    dst_len: int
    table: int
    proto: int
    destination: IPv4Address | None
    gateway: IPv4Address | None
    oif: int | None
    kind: int = 1  # RTN_UNICAST; RTN_UNREACHABLE is 7
    metric: int = 0


def decode_route(payload: bytes) -> RouteInfo:
    _, dst_len, _, _, table, proto, _, kind, _ = RTMSG.unpack_from(payload)
    destination = gateway = oif = None
    metric = 0
    for key, value in attributes(payload, RTMSG.size):
        if key == RTA_DST:
            destination = ipv4(value)
        elif key == RTA_GATEWAY:
            gateway = ipv4(value)
        elif key == RTA_OIF:
            oif = u32(value)
        elif key == RTA_TABLE:
            table = u32(value)
        elif key == RTA_PRIORITY:
            metric = u32(value)
    return RouteInfo(dst_len, table, proto, destination, gateway, oif, kind, metric)


# policy routing rules (same header layout as a route: fib_rule_hdr)


def fib_rule(table: int, proto: int, priority: int, fwmark: int, fwmask: int) -> bytes:
    """An IPv4 rule `fwmark M/MASK lookup TABLE pref PRIORITY proto PROTO`."""
    body = RTMSG.pack(socket.AF_INET, 0, 0, 0, table if table < 256 else 0, 0, 0,
                      FR_ACT_TO_TBL, 0)  # fmt: skip
    body += attr_u32(FRA_TABLE, table) + attr_u32(FRA_PRIORITY, priority)
    body += attr_u32(FRA_FWMARK, fwmark) + attr_u32(FRA_FWMASK, fwmask)
    return body + attr(FRA_PROTOCOL, bytes([proto]))


@dataclass(frozen=True)
class RuleInfo:
    table: int
    proto: int
    priority: int
    fwmark: int
    fwmask: int


def decode_rule(payload: bytes) -> RuleInfo:
    _, _, _, _, table, _, _, _, _ = RTMSG.unpack_from(payload)
    found = dict(attributes(payload, RTMSG.size))
    return RuleInfo(
        u32(found[FRA_TABLE]) if FRA_TABLE in found else table,
        found[FRA_PROTOCOL][0] if FRA_PROTOCOL in found else 0,
        u32(found[FRA_PRIORITY]) if FRA_PRIORITY in found else 0,
        u32(found[FRA_FWMARK]) if FRA_FWMARK in found else 0,
        u32(found[FRA_FWMASK]) if FRA_FWMASK in found else 0,
    )
