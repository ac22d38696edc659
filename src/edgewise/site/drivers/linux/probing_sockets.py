"""One WAN link's probe socket, opened in the WAN namespace and pinned to the link by SO_MARK.

The mark is the link's fwmark, so `ip rule fwmark -> the link's table` routes the probe by that
table: the same lookup steered traffic takes, which is what the probe must vouch for. The
table's `unreachable default` makes a send fail at once (ENETUNREACH) when the link's own
route is gone, instead of the probe leaking out of another link (SO_BINDTODEVICE would stop
the leak too, but bypasses the table: a probe could then pass while steered traffic, which
follows the table, has no route).
ICMP uses a datagram ICMP socket where `net.ipv4.ping_group_range` allows it, else a raw one
(root). Receive times come from the kernel (SO_TIMESTAMPNS), so a busy prober thread does not
add its own delay to the RTT nor turn a timely answer into a miss.
"""

from __future__ import annotations

import errno
import socket
import struct
from dataclasses import dataclass
from ipaddress import IPv4Address

from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.probing_packets import (
    icmp_answer,
    icmp_request,
    udp_answer,
    udp_payload,
)

SO_MARK = 36
SO_TIMESTAMPNS = 35
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
TIMESPEC = struct.Struct("=qq")
RECV_SIZE = 2048
ANCILLARY_SIZE = 64
MAX_READS = 256  # answers read per call at most (10 probes/s/link: never near)


@dataclass(frozen=True)
class Echo:
    """An answer: the probe's sequence number, and when the kernel received it (CLOCK_REALTIME,
    nanoseconds)."""

    sequence: int
    received_ns: int


class ProbeSocket:
    """Sends the probes of one link and reads their answers (non-blocking)."""

    def __init__(self, protocol: str, port: int, fwmark: int, token: int) -> None:
        self.protocol = protocol
        self.port = port
        self.token = token
        self.raw = False
        try:
            self.socket = self._open(protocol)
            self.socket.setsockopt(socket.SOL_SOCKET, SO_MARK, fwmark)
            self.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        except OSError as exc:
            raise DataPlaneError(f"opening a {protocol} probe socket: {exc}") from exc

    def _open(self, protocol: str) -> socket.socket:
        kind = socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
        if protocol == "udp":
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | kind)
            sock.bind(("0.0.0.0", 0))  # noqa: S104 - the route (by mark) picks the source
            return sock
        try:
            return socket.socket(socket.AF_INET, socket.SOCK_DGRAM | kind, socket.IPPROTO_ICMP)
        except PermissionError:  # ping_group_range excludes us: raw, as root
            self.raw = True
            return socket.socket(socket.AF_INET, socket.SOCK_RAW | kind, socket.IPPROTO_ICMP)

    def fileno(self) -> int:
        return self.socket.fileno()

    def send(self, target: IPv4Address, sequence: int) -> int | None:
        """Sends a probe; the errno when the kernel refused it (no route), else None."""
        if self.protocol == "udp":
            data, address = udp_payload(self.token, sequence), (str(target), self.port)
        else:
            data, address = icmp_request(self.token, sequence), (str(target), 0)
        try:
            self.socket.sendto(data, address)
        except BlockingIOError:
            return errno.EAGAIN
        except OSError as exc:
            return exc.errno or errno.EIO
        return None

    def read(self) -> list[Echo]:
        """The answers waiting; anything else read (other links' ICMP, errors) is dropped."""
        found = []
        for _ in range(MAX_READS):
            try:
                data, ancillary, _, _ = self.socket.recvmsg(RECV_SIZE, ANCILLARY_SIZE)
            except BlockingIOError:
                break
            except OSError:
                continue  # a queued ICMP error of an earlier probe: that probe times out
            if self.protocol == "udp":
                sequence = udp_answer(data, self.token)
            else:
                sequence = icmp_answer(data, self.token, with_ip_header=self.raw)
            stamp = _timestamp(ancillary)
            if sequence is not None and stamp is not None:
                found.append(Echo(sequence, stamp))
        return found

    def close(self) -> None:
        self.socket.close()


def _timestamp(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(data) >= TIMESPEC.size:
            seconds, nanoseconds = TIMESPEC.unpack_from(data)
            return int(seconds) * 1_000_000_000 + int(nanoseconds)
    return None
