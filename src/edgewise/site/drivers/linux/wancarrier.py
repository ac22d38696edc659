"""The carrier watch of the WAN links (real kernel): a thread hearing link changes in the WAN
namespace at once (a NETLINK_ROUTE socket in the link group) and telling each interface's
carrier to `report(interface, carrier)`; between messages it calls `tick()`, which answers how
long to wait before calling it again (the steerer's next failback), so failover waits for no
reconcile pass.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
from collections.abc import Callable

from edgewise.site.drivers.linux.netns import NamespaceWorker
from edgewise.site.drivers.linux.rtcodec import IFINFO, decode_link, messages

log = logging.getLogger(__name__)
RTMGRP_LINK = 0x1
RTM_NEWLINK = 16
RTM_DELLINK = 17
RECV_SIZE = 1 << 16
MAX_WAIT_S = 1.0
Report = Callable[[str, bool], None]
Tick = Callable[[], float | None]


class CarrierWatch:
    """Started by `start` in the worker thread (its socket must be made in the namespace)."""

    def __init__(self, worker: NamespaceWorker, namespace: str, report: Report, tick: Tick) -> None:
        self.namespace = namespace
        self._worker = worker
        self._report = report
        self._tick = tick
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        """Opens the socket inside the namespace (worker thread) and starts the thread."""
        kind = socket.SOCK_RAW | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
        with self._worker.inside(self.namespace):
            sock = socket.socket(socket.AF_NETLINK, kind, socket.NETLINK_ROUTE)
        sock.bind((0, RTMGRP_LINK))
        self._sock = sock
        self._thread = threading.Thread(target=self._run, name="edgewise-carrier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _run(self) -> None:
        assert self._sock is not None
        wait = MAX_WAIT_S
        while not self._stopping:
            ready, _, _ = select.select([self._sock.fileno(), self._wake_r], [], [], wait)
            try:
                if self._sock.fileno() in ready:
                    self._read()
                due = self._tick()
            except Exception:  # the watch must outlive one bad message or apply
                log.exception("carrier watch of %s", self.namespace)
                due = None
            wait = MAX_WAIT_S if due is None else min(MAX_WAIT_S, max(0.01, due))

    def _read(self) -> None:
        assert self._sock is not None
        for _ in range(1000):
            try:
                data = self._sock.recv(RECV_SIZE)
            except BlockingIOError:
                return
            for kind, _, _, payload in messages(data):
                if kind not in (RTM_NEWLINK, RTM_DELLINK) or len(payload) < IFINFO.size:
                    continue
                link = decode_link(payload)
                self._report(link.name, kind == RTM_NEWLINK and link.up and link.carrier)
