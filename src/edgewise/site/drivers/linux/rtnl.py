"""A plain rtnetlink socket: one request, its answer (raw messages, see rtcodec.py).

pyroute2 0.9's synchronous IPRoute runs an asyncio loop per request (~1 ms each, ~1.5 ms to
close); the driver sends some 40 requests per service, so it talks to the kernel itself here.
Errors are pyroute2's NetlinkError (netlink.py turns them into DataPlaneError).
"""

from __future__ import annotations

import socket
import struct

from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from edgewise.site.drivers.linux.rtcodec import message, messages

NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
RECV_SIZE = 1 << 18
TIMEOUT_S = 10.0
SOL_NETLINK = 270
NETLINK_GET_STRICT_CHK = 12


class RtnlSocket:
    """NETLINK_ROUTE in the namespace the calling thread is in when it is made."""

    def __init__(self) -> None:
        self._sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE
        )
        self._sock.bind((0, 0))
        self._sock.settimeout(TIMEOUT_S)  # the kernel always answers; never hang the worker
        # dumps filtered by the kernel (addresses of one link, routes of one protocol)
        self._sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def change(self, kind: int, body: bytes, flags: int = 0) -> None:
        """A request that changes something; waits for the kernel's acknowledgement."""
        self._send(kind, flags | NLM_F_ACK, body)

    def get(self, kind: int, body: bytes) -> bytes:
        """The payload of one object (a `get` request)."""
        found = self._send(kind, 0, body)
        if not found:
            raise NetlinkError(0, "no answer")
        return found[0]

    def dump(self, kind: int, body: bytes) -> list[bytes]:
        """The payloads of a dump."""
        return self._send(kind, NLM_F_DUMP, body)

    def _send(self, kind: int, flags: int, body: bytes) -> list[bytes]:
        self._seq += 1
        seq = self._seq
        self._sock.send(message(kind, flags | NLM_F_REQUEST, seq, body))
        found: list[bytes] = []
        while True:
            data = self._sock.recv(RECV_SIZE)
            for reply, mflags, mseq, payload in messages(data):
                if mseq != seq:
                    continue
                if reply == NLMSG_DONE:
                    return found
                if reply == NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", payload)
                    if code:
                        raise NetlinkError(-code)
                    return found
                found.append(payload)
                if not mflags & NLM_F_MULTI and not flags & NLM_F_ACK:
                    return found
