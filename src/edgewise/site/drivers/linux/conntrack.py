"""Conntrack entries deleted or counted by mark (ctnetlink), in the namespace the socket was made
in.

When steering moves a class to another link, the flows it had keep their conntrack entry, and
with it the source NAT of the old link: their packets would leave by the new link with the old
link's address, and their answers come back to the dead one. Deleting the class's entries (by
its key in the ct mark) makes their next packet a new flow, classified and NATed afresh.
"""

from __future__ import annotations

import socket
import struct

from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from edgewise.site.drivers.linux.netlink import netlink_errors
from edgewise.site.drivers.linux.rtcodec import attr, attributes, message, messages

NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_GET = 1
IPCTNL_MSG_CT_DELETE = 2
CTA_PROTOINFO = 4
CTA_PROTOINFO_TCP = 1
CTA_PROTOINFO_TCP_STATE = 1
TCP_ENDED = frozenset({7, 8})  # TIME_WAIT, CLOSE: the connection is over
NLM_F_DUMP = 0x300
NLMSG_DONE = 3
MAX_DUMP_READS = 10_000
CTA_MARK = 8
CTA_MARK_MASK = 21
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLMSG_ERROR = 2
NFGENMSG = struct.Struct("=BBH")  # family, version, resource id (big endian)


class CtnetlinkSocket:
    """`kernel.Conntrack` over a NETLINK_NETFILTER socket (made in the caller's namespace)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self._sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_NETFILTER
        )
        self._sock.bind((0, 0))
        self._sock.settimeout(5.0)
        self._seq = 0

    def delete_marked(self, mark: int, mask: int) -> None:
        """Deletes the IPv4 entries whose ct mark & `mask` is `mark`."""
        self._seq += 1
        body = NFGENMSG.pack(socket.AF_INET, 0, 0)
        body += attr(CTA_MARK, struct.pack("!I", mark)) + attr(
            CTA_MARK_MASK, struct.pack("!I", mask)
        )
        kind = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE
        with netlink_errors(
            f"deleting conntrack entries marked {mark:#x}/{mask:#x} in {self.where}"
        ):
            self._sock.send(message(kind, NLM_F_REQUEST | NLM_F_ACK, self._seq, body))
            for _ in range(100):
                for reply, _, seq, payload in messages(self._sock.recv(1 << 16)):
                    if seq == self._seq and reply == NLMSG_ERROR:
                        (code,) = struct.unpack_from("=i", payload)
                        if code:
                            raise NetlinkError(-code)
                        return

    def count_marked(self, mark: int, mask: int) -> int:
        """The IPv4 entries whose ct mark & `mask` is `mark` (ctnetlink filters the dump) whose
        connection is not over: TCP not in TIME_WAIT or CLOSE, any other protocol's."""
        self._seq += 1
        body = NFGENMSG.pack(socket.AF_INET, 0, 0)
        body += attr(CTA_MARK, struct.pack("!I", mark)) + attr(
            CTA_MARK_MASK, struct.pack("!I", mask)
        )
        kind = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET
        alive = 0
        with netlink_errors(f"counting conntrack entries marked {mark:#x} in {self.where}"):
            self._sock.send(message(kind, NLM_F_REQUEST | NLM_F_DUMP, self._seq, body))
            for _ in range(MAX_DUMP_READS):
                for reply, _, seq, payload in messages(self._sock.recv(1 << 16)):
                    if seq != self._seq:
                        continue
                    if reply == NLMSG_ERROR:
                        (code,) = struct.unpack_from("=i", payload)
                        if code:
                            raise NetlinkError(-code)
                        return alive
                    if reply == NLMSG_DONE:
                        return alive
                    alive += tcp_state(payload) not in TCP_ENDED
        return alive

    def close(self) -> None:
        self._sock.close()


def tcp_state(payload: bytes) -> int | None:
    """The TCP state of one conntrack entry's message; None for another protocol."""
    for kind, value in attributes(payload, NFGENMSG.size):
        if kind == CTA_PROTOINFO:
            for sub, inner in attributes(value):
                if sub == CTA_PROTOINFO_TCP:
                    for key, raw in attributes(inner):
                        if key == CTA_PROTOINFO_TCP_STATE and raw:
                            return raw[0]
    return None
