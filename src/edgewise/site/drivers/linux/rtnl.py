"""A plain rtnetlink socket: one request, its answer; pyroute2's message classes, not its loop.

pyroute2 0.9's synchronous IPRoute runs an asyncio loop per request (~1 ms each, ~1.5 ms to
close); the driver sends some 40 requests per service, so it talks to the kernel itself here
and uses pyroute2 only to encode and decode messages. Errors are pyroute2's NetlinkError.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from pyroute2.netlink import (  # type: ignore[import-untyped]
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_MULTI,
    NLM_F_REQUEST,
)
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

NLMSG_ERROR = 2
NLMSG_DONE = 3
HEADER = struct.Struct("=IHHII")
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

    def change(self, msg: Any, msg_type: int, flags: int = 0) -> None:
        """A request that changes something; waits for the kernel's acknowledgement."""
        self._send(msg, msg_type, flags | NLM_F_ACK, None)

    def get(self, msg: Any, msg_type: int, reply: type[Any]) -> Any:
        """One object (a `get` request)."""
        found = self._send(msg, msg_type, 0, reply)
        if not found:
            raise NetlinkError(0, "no answer")
        return found[0]

    def dump(self, msg: Any, msg_type: int, reply: type[Any]) -> list[Any]:
        return self._send(msg, msg_type, NLM_F_DUMP, reply)

    def _send(self, msg: Any, msg_type: int, flags: int, reply: type[Any] | None) -> list[Any]:
        self._seq += 1
        seq = self._seq
        header = msg["header"]
        header["type"] = msg_type
        header["flags"] = flags | NLM_F_REQUEST
        header["sequence_number"] = seq
        header["pid"] = 0
        msg.encode()
        self._sock.send(msg.data)
        found: list[Any] = []
        while True:
            data = self._sock.recv(RECV_SIZE)
            offset = 0
            while offset + HEADER.size <= len(data):
                length, kind, mflags, mseq, _ = HEADER.unpack_from(data, offset)
                if length < HEADER.size:
                    raise NetlinkError(0, "truncated netlink message")
                chunk = data[offset : offset + length]
                offset += (length + 3) & ~3
                if mseq != seq:
                    continue
                if kind == NLMSG_DONE:
                    return found
                if kind == NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", chunk, HEADER.size)
                    if code:
                        raise NetlinkError(-code)
                    return found
                if reply is not None:
                    decoded = reply(chunk)
                    decoded.decode()
                    found.append(decoded)
                if not mflags & NLM_F_MULTI and not flags & NLM_F_ACK:
                    return found
