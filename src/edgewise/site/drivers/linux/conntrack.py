"""Conntrack entries deleted by mark (ctnetlink), in the namespace the socket was made in.

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
from edgewise.site.drivers.linux.rtcodec import attr, message, messages

NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_DELETE = 2
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

    def close(self) -> None:
        self._sock.close()
