"""The carrier watch of the WAN links (real kernel): a thread telling each link interface's
carrier to `report(interface, carrier)` as soon as it changes, and calling `tick()` (which
answers how long until it wants calling again: the steerer's next failback), so failover waits
for no reconcile pass.

The kernel notifies a carrier change (RTM_NEWLINK, operstate) from its link watch, which
batches non-urgent events to one run per second: a physical NIC's carrier loss, or a veth's
whose peer has the same ifindex in its own namespace, reaches netlink 0-1 s late (measured:
p50 ~480 ms). IFLA_CARRIER in an RTM_GETLINK answer is the carrier as the driver set it, at
once; so besides the notifications (link gone, admin state), the thread asks for the link
interfaces every POLL_S (a few small requests: `interfaces()` names them).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
from collections.abc import Callable

from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from edgewise.site.drivers.linux.netns import NamespaceWorker
from edgewise.site.drivers.linux.rtcodec import (
    IFINFO,
    IFLA_IFNAME,
    attr_str,
    attributes,
    decode_link,
    ifinfo,
    messages,
    text,
)
from edgewise.site.drivers.linux.rtnl import RtnlSocket

log = logging.getLogger(__name__)
RTMGRP_LINK = 0x1
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
IFLA_CARRIER = 33
IFF_UP = 0x1
RECV_SIZE = 1 << 16
POLL_S = 0.02
Report = Callable[[str, bool], None]
Tick = Callable[[], float | None]
Interfaces = Callable[[], list[str]]


def carrier_of(payload: bytes) -> tuple[str, bool] | None:
    """(name, up with carrier) of an RTM_NEWLINK payload, by IFLA_CARRIER (None without it)."""
    _, _, _, flags, _ = IFINFO.unpack_from(payload)
    name, carrier = "", None
    for key, value in attributes(payload, IFINFO.size):
        if key == IFLA_IFNAME:
            name = text(value)
        elif key == IFLA_CARRIER and value:
            carrier = bool(value[0])
    return None if carrier is None else (name, bool(flags & IFF_UP) and carrier)


class CarrierWatch:
    """Started by `start` in the worker thread (its socket must be made in the namespace)."""

    def __init__(
        self,
        worker: NamespaceWorker,
        namespace: str,
        report: Report,
        tick: Tick,
        interfaces: Interfaces,
    ) -> None:
        self.namespace = namespace
        self._worker = worker
        self._report = report
        self._tick = tick
        self._interfaces = interfaces
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._sock: socket.socket | None = None
        self._ask: RtnlSocket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        """Opens the socket inside the namespace (worker thread) and starts the thread."""
        kind = socket.SOCK_RAW | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
        with self._worker.inside(self.namespace):
            sock = socket.socket(socket.AF_NETLINK, kind, socket.NETLINK_ROUTE)
            self._ask = RtnlSocket()
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
        if self._ask is not None:
            self._ask.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _run(self) -> None:
        assert self._sock is not None
        wait = POLL_S
        while not self._stopping:
            ready, _, _ = select.select([self._sock.fileno(), self._wake_r], [], [], wait)
            try:
                if self._sock.fileno() in ready:
                    self._read()
                self._poll()
                due = self._tick()
            except Exception:  # the watch must outlive one bad message or apply
                log.exception("carrier watch of %s", self.namespace)
                due = None
            wait = POLL_S if due is None else min(POLL_S, max(0.001, due))

    def _poll(self) -> None:
        """Asks for each link interface's carrier (IFLA_CARRIER: as the driver set it)."""
        assert self._ask is not None
        for name in self._interfaces():
            try:
                payload = self._ask.get(RTM_GETLINK, ifinfo() + attr_str(IFLA_IFNAME, name))
            except (OSError, NetlinkError):
                self._report(name, False)  # noqa: FBT003 - gone
                continue
            found = carrier_of(payload)
            if found is not None:
                self._report(name, found[1])

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
                found = carrier_of(payload) if kind == RTM_NEWLINK else None
                if kind == RTM_DELLINK:
                    self._report(link.name, False)  # noqa: FBT003 - gone
                elif found is not None:
                    self._report(link.name, found[1])
