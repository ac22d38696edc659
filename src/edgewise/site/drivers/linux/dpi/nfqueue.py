"""The netfilter queue the classifier reads, spoken directly over an AF_NETLINK socket (no
libnetfilter_queue, no C library to load): bind, receive queued packets, send verdicts that may
set the packet mark. Lives in the network namespace the process is in when it opens.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from edgewise.site.drivers.linux.dpi import nfqmsg
from edgewise.site.drivers.linux.dpi.errors import DpiUnavailable, QueueError

SOL_NETLINK: Final = 270
NETLINK_NO_ENOBUFS: Final = 5
RECEIVE_BUFFER: Final = 4 << 20
STATS: Final = Path("/proc/net/netfilter/nfnetlink_queue")


@dataclass(frozen=True)
class QueueStats:
    """The kernel's counters of one queue (`/proc/net/netfilter/nfnetlink_queue`)."""

    waiting: int
    dropped: int  # the queue was full (fail-open accepts instead, so normally 0)
    user_dropped: int  # could not be delivered to this socket
    last_id: int


class NetfilterQueue:
    """One bound queue number. `receive` blocks for at most the socket's timeout."""

    def __init__(self, queue: int, *, copy_range: int = 2048, max_len: int = 4096) -> None:
        self.queue = queue
        self._seq = 0
        try:
            self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, nfqmsg.NETLINK_NETFILTER)
        except OSError as exc:
            raise DpiUnavailable(f"no netfilter netlink socket here: {exc}") from exc
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            self.sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
            self.sock.bind((0, 0))
            self._request(nfqmsg.bind(queue, self._next()))
            self._request(nfqmsg.configure(queue, self._next(), copy_range=copy_range,
                                           max_len=max_len))  # fmt: skip
        except BaseException:
            self.sock.close()
            raise

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _request(self, data: bytes) -> None:
        """Sends a config request and waits for its ack (queued packets meanwhile get accepted)."""
        seq = int.from_bytes(data[8:12], "little")
        self.sock.sendall(data)
        self.sock.settimeout(2.0)
        try:
            while True:
                for item in nfqmsg.parse(self.sock.recv(65536)):
                    if isinstance(item, nfqmsg.QueuedPacket):
                        self.accept(item.packet_id)
                    elif item.seq == seq:
                        if item.error:
                            code = -item.error
                            raise QueueError(
                                f"netfilter queue {self.queue}: the kernel refused the "
                                f"configuration: {os.strerror(code)} ({errno.errorcode.get(code)})"
                            )
                        return
        except TimeoutError as exc:
            raise QueueError(f"netfilter queue {self.queue}: no answer to {seq}") from exc

    def receive(self, timeout: float) -> list[nfqmsg.QueuedPacket]:
        """The packets of the next datagram, or [] when none came within `timeout` seconds."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return []
        except OSError as exc:
            raise QueueError(f"netfilter queue {self.queue}: receive failed: {exc}") from exc
        try:
            return [p for p in nfqmsg.parse(data) if isinstance(p, nfqmsg.QueuedPacket)]
        except nfqmsg.MessageError as exc:
            raise QueueError(f"netfilter queue {self.queue}: {exc}") from exc

    def accept(self, packet_id: int, *, mark: int | None = None) -> None:
        """Lets the packet go on; with `mark`, as its new packet mark, through the hook again."""
        try:
            self.sock.send(nfqmsg.verdict(self.queue, packet_id, mark=mark))
        except OSError as exc:
            raise QueueError(f"netfilter queue {self.queue}: verdict failed: {exc}") from exc

    def stats(self) -> QueueStats | None:
        """This queue's kernel counters (None when the kernel does not list it)."""
        try:
            lines = STATS.read_text().splitlines()
        except OSError:
            return None
        for line in lines:
            fields = [int(f) for f in line.split()]
            if len(fields) >= 8 and fields[0] == self.queue:
                return QueueStats(fields[2], fields[5], fields[6], fields[7])
        return None

    def close(self) -> None:
        if self.sock.fileno() < 0:
            return
        with contextlib.suppress(OSError):  # closing the socket unbinds too
            self.sock.send(nfqmsg.unbind(self.queue, self._next()))
        self.sock.close()
