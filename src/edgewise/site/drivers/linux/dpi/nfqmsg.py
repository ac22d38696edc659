"""nfnetlink_queue messages (pure): encode the queue's config and verdicts, decode queued packets
with their packet mark. Layouts from linux/netfilter/nfnetlink_queue.h; nfnetlink numbers are
big-endian, netlink headers host-endian. Conntrack attributes (NFQA_CT) are not used: kernels
built without CONFIG_NETFILTER_NETLINK_GLUE_CT (these machines) refuse them, so the verdict sets
the packet mark and the hook's next rule copies it into the conntrack mark (hooks.py).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

NETLINK_NETFILTER: Final = 12
NFNL_SUBSYS_QUEUE: Final = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NLMSG_ERROR: Final = 2
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLA_TYPE_MASK: Final = 0x3FFF

# config attributes and values
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN, NFQA_CFG_MASK, NFQA_CFG_FLAGS = 1, 2, 3, 4, 5
NFQNL_CFG_CMD_BIND, NFQNL_CFG_CMD_UNBIND = 1, 2
NFQNL_COPY_PACKET: Final = 2
NFQA_CFG_F_FAIL_OPEN: Final = 0x1

# packet and verdict attributes
NFQA_PACKET_HDR, NFQA_VERDICT_HDR, NFQA_MARK, NFQA_PAYLOAD = 1, 2, 3, 10
NF_DROP, NF_ACCEPT, NF_REPEAT = 0, 1, 4

_NLMSG = struct.Struct("=IHHII")
_NFGEN = struct.Struct("!BBH")
_ATTR = struct.Struct("=HH")


class MessageError(ValueError):
    """A message from the kernel that does not parse (truncated, bad lengths)."""


@dataclass(frozen=True)
class FlowKey:
    """A flow's 5-tuple with its endpoints in a fixed order: the same for both directions."""

    proto: int
    src: str
    sport: int
    dst: str
    dport: int


@dataclass(frozen=True)
class QueuedPacket:
    """One packet the kernel queued: its id (for the verdict), its bytes from the IP header and
    its packet mark (the verdict's mark keeps the bits DPI does not own)."""

    packet_id: int
    payload: bytes
    mark: int = 0


@dataclass(frozen=True)
class NetlinkAck:
    """The kernel's answer to a request: 0, or a negative errno."""

    seq: int
    error: int


def _align(length: int) -> int:
    return (length + 3) & ~3


def attr(kind: int, value: bytes) -> bytes:
    length = _ATTR.size + len(value)
    return _ATTR.pack(length, kind) + value + b"\0" * (_align(length) - length)


def message(msg: int, queue: int, seq: int, attrs: bytes, *, ack: bool = False) -> bytes:
    """One nfnetlink_queue request: netlink header, nfgenmsg (AF_UNSPEC, v0, queue), attrs."""
    body = _NFGEN.pack(socket.AF_UNSPEC, 0, queue) + attrs
    flags = NLM_F_REQUEST | (NLM_F_ACK if ack else 0)
    kind = (NFNL_SUBSYS_QUEUE << 8) | msg
    return _NLMSG.pack(_NLMSG.size + len(body), kind, flags, seq, 0) + body


def bind(queue: int, seq: int) -> bytes:
    return message(
        NFQNL_MSG_CONFIG,
        queue,
        seq,
        attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, socket.AF_INET)),
        ack=True,
    )


def unbind(queue: int, seq: int) -> bytes:
    cmd = attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_UNBIND, socket.AF_INET))
    return message(NFQNL_MSG_CONFIG, queue, seq, cmd, ack=True)


def configure(queue: int, seq: int, *, copy_range: int, max_len: int) -> bytes:
    """Copy packets up to `copy_range` bytes; at most `max_len` waiting; fail open (a full queue
    or a failed delivery accepts the packet instead of dropping it)."""
    flags = NFQA_CFG_F_FAIL_OPEN
    attrs = (
        attr(NFQA_CFG_PARAMS, struct.pack("!IB", copy_range, NFQNL_COPY_PACKET))
        + attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", max_len))
        + attr(NFQA_CFG_FLAGS, struct.pack("!I", flags))
        + attr(NFQA_CFG_MASK, struct.pack("!I", flags))
    )
    return message(NFQNL_MSG_CONFIG, queue, seq, attrs, ack=True)


def verdict(queue: int, packet_id: int, *, mark: int | None = None) -> bytes:
    """Accept the packet; with `mark`, set its packet mark to it and send it through the hook
    again (NF_REPEAT), where the rule before the queue rule saves the mark into the conntrack."""
    if mark is None:
        return message(NFQNL_MSG_VERDICT, queue, 0, attr(NFQA_VERDICT_HDR,
                       struct.pack("!II", NF_ACCEPT, packet_id)))  # fmt: skip
    attrs = attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_REPEAT, packet_id))
    attrs += attr(NFQA_MARK, struct.pack("!I", mark))
    return message(NFQNL_MSG_VERDICT, queue, 0, attrs)


def attributes(data: bytes, offset: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(type without flags, value) of each attribute in data[offset:end]."""
    end = len(data) if end is None else end
    while offset + _ATTR.size <= end:
        length, kind = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size or offset + length > end:
            raise MessageError(f"attribute of length {length} at {offset} overruns {end}")
        yield kind & NLA_TYPE_MASK, data[offset + _ATTR.size : offset + length]
        offset += _align(length)


def parse(data: bytes) -> Iterator[QueuedPacket | NetlinkAck]:
    """The messages of one datagram from the queue's socket (others are skipped)."""
    offset = 0
    while offset + _NLMSG.size <= len(data):
        length, kind, _flags, seq, _pid = _NLMSG.unpack_from(data, offset)
        if length < _NLMSG.size or offset + length > len(data):
            raise MessageError(f"netlink message of length {length} at {offset} overruns")
        body = data[offset + _NLMSG.size : offset + length]
        if kind == NLMSG_ERROR:
            yield NetlinkAck(seq, struct.unpack_from("=i", body)[0])
        elif kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            yield _packet(body)
        offset += _align(length)


def _packet(body: bytes) -> QueuedPacket:
    packet_id, payload, mark = None, b"", 0
    for kind, value in attributes(body, _NFGEN.size):
        if kind == NFQA_PACKET_HDR:
            packet_id = struct.unpack_from("!I", value)[0]
        elif kind == NFQA_PAYLOAD:
            payload = value
        elif kind == NFQA_MARK:
            mark = struct.unpack_from("!I", value)[0]
    if packet_id is None:
        raise MessageError("a queued packet without NFQA_PACKET_HDR")
    return QueuedPacket(packet_id, payload, mark)


def opens_connection(packet: bytes) -> bool:
    """A TCP SYN without ACK: the first packet of a new connection (even on a reused 5-tuple)."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != 6:
        return False
    ihl = (packet[0] & 0xF) * 4
    return len(packet) > ihl + 13 and packet[ihl + 13] & 0x12 == 0x02


def packet_key(packet: bytes) -> FlowKey | None:
    """The flow key of an IPv4 packet (ports for TCP and UDP), None for anything else. At the
    FORWARD hook both directions carry the original addresses (replies are de-NATed before,
    sources NATed after), so the key holds across NAT."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    ihl = (packet[0] & 0xF) * 4
    proto = packet[9]
    src, dst = socket.inet_ntoa(packet[12:16]), socket.inet_ntoa(packet[16:20])
    sport = dport = 0
    if proto in (6, 17) and len(packet) >= ihl + 4:
        sport, dport = struct.unpack_from("!HH", packet, ihl)
    a, b = (packet[12:16], sport), (packet[16:20], dport)
    if a <= b:
        return FlowKey(proto, src, sport, dst, dport)
    return FlowKey(proto, dst, dport, src, sport)


@dataclass(frozen=True)
class Server:
    """Where a flow went: its first packet's destination address, protocol and port."""

    address: str
    proto: int
    port: int


def destination(packet: bytes) -> Server | None:
    """Where an IPv4 TCP or UDP packet goes (address, protocol, port); None for anything else."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] not in (6, 17):
        return None
    ihl = (packet[0] & 0xF) * 4
    if len(packet) < ihl + 4:
        return None
    (dport,) = struct.unpack_from("!H", packet, ihl + 2)
    return Server(socket.inet_ntoa(packet[16:20]), packet[9], dport)
