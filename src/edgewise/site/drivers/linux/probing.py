"""The WAN link prober: one thread living in the site's WAN namespace probes every link and
watches their carrier, feeding link health (site/health) and reporting its state changes.

The thread enters the namespace once (setns is per thread) and opens there a probe socket per
link (probing_sockets.py: pinned by the link's fwmark) and the RTNL carrier watch (carrier.py).
It sleeps in epoll until the next probe or timeout is due or something arrives; each round it
reads every answer first, then expires overdue probes, then sends what is due. `report` is
called from this thread with every `Transition`, then `measured` (if given) with each link whose
figures a probe just changed (hand both on quickly: they run in the probing loop); `snapshot()`
gives every link's state and figures from any thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import secrets
import select
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from edgewise.site.drivers.linux.carrier import CarrierWatch
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.netns import CLONE_NEWNET, NETNS_DIR
from edgewise.site.drivers.linux.probing_sockets import ProbeSocket
from edgewise.site.health import (
    Figures,
    LinkHealthSettings,
    LinkMonitor,
    LinkState,
    ProbeCounts,
    Transition,
)

log = logging.getLogger(__name__)
Report = Callable[[Transition], None]
Measured = Callable[["LinkHealth"], None]
Clock = Callable[[], float]
START_TIMEOUT_S = 5.0
NS_PER_S = 1_000_000_000
T = TypeVar("T")

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class LinkHealth:
    """One link as the prober sees it now."""

    name: str
    state: LinkState
    carrier: bool
    figures: Figures
    counts: ProbeCounts
    misses: int = 0  # in a row, now


@dataclass
class _Link:
    monitor: LinkMonitor
    socket: ProbeSocket


class LinkProber:
    """Probes the WAN links of one namespace in a thread of its own (start, then stop)."""

    def __init__(
        self,
        namespace: str,
        links: Sequence[LinkHealthSettings],
        report: Report,
        clock: Clock = time.monotonic,
        measured: Measured | None = None,
    ) -> None:
        names = [link.name for link in links]
        if len(set(names)) != len(names):
            raise ValueError(f"link names repeat: {names}")
        self.namespace = namespace
        self.settings = list(links)
        self.report = report
        self.measured = measured
        self.clock = clock
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._carrier: CarrierWatch | None = None
        self._wakeup = -1
        self._running = False
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None

    def start(self) -> None:
        """Starts the thread and waits until its sockets are open; DataPlaneError if they
        cannot be (no such namespace, no permission)."""
        if self._thread is not None:
            raise RuntimeError("the prober runs already")
        self._running = True
        self._wakeup = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self._thread = threading.Thread(
            target=self._run, name=f"edgewise-probe-{self.namespace}", daemon=True
        )
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_S):
            self.stop()
            raise DataPlaneError(f"the prober of {self.namespace} did not start")
        if self._failure is not None:
            failure = self._failure
            self.stop()
            if isinstance(failure, DataPlaneError):
                raise failure
            raise DataPlaneError(f"starting the prober of {self.namespace}: {failure}")

    def stop(self) -> None:
        """Stops the thread and closes its sockets (idempotent)."""
        self._running = False
        if self._wakeup >= 0:
            os.eventfd_write(self._wakeup, 1)
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        if self._wakeup >= 0:
            os.close(self._wakeup)
            self._wakeup = -1

    @property
    def running(self) -> bool:
        """Whether the thread probes (False before start, after stop or a failure)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def snapshot(self) -> dict[str, LinkHealth]:
        with self._lock:
            return {link.monitor.name: _health(link.monitor) for link in self._links}

    # the thread

    def _run(self) -> None:
        try:
            _enter(self.namespace)
            self._open()
        except (OSError, DataPlaneError) as exc:
            self._failure = exc
            self._close()
            self._started.set()
            return
        self._started.set()
        try:
            self._loop()
        except Exception:
            log.exception("prober of %s failed", self.namespace)
        finally:
            self._close()

    def _open(self) -> None:
        for settings in self.settings:
            token = secrets.randbits(32)
            probe = settings.probe
            sock = ProbeSocket(probe.protocol, probe.port, settings.fwmark, token)
            self._links.append(_Link(LinkMonitor(settings), sock))
        self._carrier = CarrierWatch()

    def _close(self) -> None:
        with self._lock:
            for link in self._links:
                link.socket.close()
            if self._carrier is not None:
                self._carrier.close()
                self._carrier = None

    def _loop(self) -> None:
        carrier = self._carrier
        assert carrier is not None
        with select.epoll() as epoll:
            epoll.register(self._wakeup, select.EPOLLIN)
            epoll.register(carrier.fileno(), select.EPOLLIN)
            for link in self._links:
                epoll.register(link.socket.fileno(), select.EPOLLIN)
            while self._running:
                with self._lock:
                    wake = min(link.monitor.next_wakeup() for link in self._links)
                epoll.poll(max(0.0, wake - self.clock()))
                if not self._running:
                    return
                with self._lock:
                    before = [link.monitor.counts() for link in self._links]
                    changes = self._round(carrier)
                    resolved = [
                        _health(link.monitor)
                        for link, was in zip(self._links, before, strict=True)
                        if _resolved(link.monitor.counts()) > _resolved(was)
                    ]
                for change in changes:
                    self._tell(self.report, change)
                if self.measured is not None:
                    for health in resolved:
                        self._tell(self.measured, health)

    def _tell(self, consumer: Callable[[T], None], value: T) -> None:
        try:
            consumer(value)
        except Exception:  # the prober must outlive a failing consumer
            log.exception("prober of %s: reporting %s failed", self.namespace, value)

    def _round(self, carrier: CarrierWatch) -> list[Transition]:
        """One round: carrier news, every answer waiting, overdue probes, probes due; then a
        carrier question for each link that missed with carrier, or was answered without."""
        changes: list[Transition | None] = []
        now = self.clock()
        for interface, up in carrier.read():
            changes.extend(
                link.monitor.carrier(up, now)
                for link in self._links
                if link.monitor.settings.interface == interface
            )
        if carrier.lost:
            carrier.resync()
        before = [link.monitor.counts() for link in self._links]
        offset = now - time.time_ns() / NS_PER_S  # kernel receive times onto our clock
        for link in self._links:
            for echo in link.socket.read():
                received = echo.received_ns / NS_PER_S + offset
                changes.append(link.monitor.answered(echo.sequence, received, now))
        for link in self._links:
            changes.extend(link.monitor.expire(now))
        for link in self._links:
            now = self.clock()
            if link.monitor.due(now):
                probe = link.monitor.send(now)
                refused = link.socket.send(probe.target, probe.sequence)
                if refused is not None:
                    changes.append(link.monitor.send_failed(probe.sequence, now))
        for link, was in zip(self._links, before, strict=True):
            counts, has_carrier = link.monitor.counts(), link.monitor.machine.carrier
            if (counts.lost > was.lost and has_carrier) or (
                counts.answered > was.answered and not has_carrier
            ):
                carrier.ask(link.monitor.settings.interface)  # is the carrier what we think?
        return [change for change in changes if change is not None]


def _health(monitor: LinkMonitor) -> LinkHealth:
    return LinkHealth(monitor.name, monitor.state, monitor.machine.carrier, monitor.figures(),
                      monitor.counts(), monitor.machine.misses)  # fmt: skip


def _resolved(counts: ProbeCounts) -> int:
    """Probes whose outcome is known (an answer or a miss)."""
    return counts.answered + counts.lost


def _enter(namespace: str) -> None:
    """Moves the calling thread into `namespace` for good (the prober's thread only)."""
    try:
        fd = os.open(NETNS_DIR / namespace, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise DataPlaneError(f"namespace {namespace} does not exist", code="no-namespace") from exc
    with contextlib.ExitStack() as stack:
        stack.callback(os.close, fd)
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            code = ctypes.get_errno()
            raise DataPlaneError(f"entering namespace {namespace}: {os.strerror(code)}")
