"""The drift watch: kernel notifications that the data plane may no longer be what was built.

One thread waits (epoll) on:
- inotify on /run/netns: a watched namespace deleted (`ip netns del`);
- per watched namespace (the LAN and WAN sides, every VNF), a NETLINK_ROUTE socket in the link
  group: a link of the site going down or away; and in a VNF, a NETLINK_NETFILTER socket in the
  nftables group: its ruleset deleted or flushed;
- a pidfd per process VNF's program: the program ended.
What counts as drift is decided in drift.py; each drift found is passed to `report` (from this
thread). The driver's worker thread tells the watch what it builds and removes (`track`,
`forget`, `expect_gone`, `process_started`/`process_stopping`); every call is a no-op while
the watch is not running. Sockets in a namespace keep it alive, so a namespace the watch sees
deleted is released at once (its veths then go, which the kernel tells too).
Every notification also marks its namespace dirty, drift or not (`take_dirty`): the driver reads
again only those namespaces between its periodic full reads.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import select
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from edgewise.site.drivers.linux.drift import (
    NFT_DELSETELEM,
    Expected,
    LinkStates,
    NftTransactions,
    inotify_records,
    link_request,
)
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.netns import NETNS_DIR, NamespaceWorker, namespace_inode
from edgewise.site.drivers.linux.rtcodec import messages

log = logging.getLogger(__name__)
WAN_TABLES = frozenset({"ew_links", "ew_steer"})  # wanplan.LINKS_TABLE, steering.STEER_TABLE
RTMGRP_LINK = 0x1
NETLINK_NETFILTER = 12
NFNLGRP_NFTABLES = 7
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
IN_MOVED_FROM = 0x40
IN_DELETE = 0x200
IN_Q_OVERFLOW = 0x4000
RECV_SIZE = 1 << 16
SOCKET_BUFFER = 1 << 20
Report = Callable[[str], None]

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class Watched:
    """What is open in one namespace: its sockets, what they saw, its program's pidfd."""

    namespace: str
    inode: int
    links: LinkStates
    nft: NftTransactions | None
    sockets: list[socket.socket] = field(default_factory=list)
    pid: int | None = None
    pidfd: int | None = None


class DriftWatch:
    """Kernel notifications of a site's namespaces, read in a thread of its own."""

    def __init__(self, worker: NamespaceWorker, prefix: str) -> None:
        self.worker = worker
        self.prefix = prefix
        self._lock = threading.RLock()
        self._report: Report | None = None
        self._thread: threading.Thread | None = None
        self._epoll: select.epoll | None = None
        self._wakeup = -1
        self._inotify = -1
        self._watched: dict[str, Watched] = {}
        self._handlers: dict[int, Callable[[], None]] = {}
        self._expected = Expected(prefix)
        self._dirty: set[str] = set()  # namespaces with notifications since `take_dirty`
        self._all_dirty = True  # notifications may have been lost (or the watch just started)

    @property
    def running(self) -> bool:
        return self._report is not None

    def start(self, report: Report) -> None:
        """Starts the thread; `report(reason)` is called from it for each drift seen."""
        with self._lock:
            if self._report is not None:
                raise RuntimeError("the drift watch runs already")
            NETNS_DIR.mkdir(parents=True, exist_ok=True)
            self._epoll = select.epoll()
            self._wakeup = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
            self._epoll.register(self._wakeup, select.EPOLLIN)
            self._inotify = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
            if (
                self._inotify < 0
                or _libc.inotify_add_watch(
                    self._inotify, bytes(NETNS_DIR), IN_DELETE | IN_MOVED_FROM
                )
                < 0
            ):
                code = ctypes.get_errno()
                self._close_all()
                raise DataPlaneError(f"watching {NETNS_DIR}: {os.strerror(code)}")
            self._register(self._inotify, self._read_inotify)
            self._dirty.clear()
            self._all_dirty = True
            self._report = report
            self._thread = threading.Thread(target=self._run, name="edgewise-drift", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stops the thread and closes every socket (any thread; idempotent)."""
        with self._lock:
            if self._report is None:
                return
            self._report = None
            os.eventfd_write(self._wakeup, 1)
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self._lock:
            self._close_all()

    # what the driver's worker thread tells the watch

    def track(self, namespace: str, *, vnf: bool, wan: bool = False) -> None:
        """Watches `namespace` (worker thread): its links, and the ruleset of a VNF or the
        links and steering tables of the WAN side."""
        with self._lock:
            if self._report is None:
                return
            inode = namespace_inode(namespace)
            known = self._watched.get(namespace)
            if known is not None and known.inode == inode:
                return
            self._drop(namespace)
            if inode is None:
                return
            watched = Watched(
                namespace,
                inode,
                LinkStates(namespace, self.prefix, vnf=vnf),
                NftTransactions(namespace) if vnf else None,
            )
            if wan:
                watched.nft = NftTransactions(namespace, tables=WAN_TABLES,
                                              ignored=frozenset({NFT_DELSETELEM}))  # fmt: skip
            try:
                with self.worker.inside(namespace):
                    watched.sockets.append(_monitor(socket.NETLINK_ROUTE, RTMGRP_LINK))
                    if watched.nft is not None:
                        watched.sockets.append(_monitor(NETLINK_NETFILTER, 0, NFNLGRP_NFTABLES))
            except (OSError, DataPlaneError) as exc:
                for sock in watched.sockets:
                    sock.close()
                log.warning("drift watch: cannot watch %s: %s", namespace, exc)
                self._all_dirty = True  # unwatched: the driver must read it every time
                return
            self._watched[namespace] = watched
            links = watched.sockets[0]
            links.send(link_request(1))  # its answer seeds the link states
            self._register(links.fileno(), lambda: self._read_links(watched, links))
            if watched.nft is not None:
                nft = watched.sockets[1]
                self._register(nft.fileno(), lambda: self._read_nft(watched, nft))

    def forget(self, namespace: str) -> None:
        """Stops watching a namespace the driver removes; the peers of its veths may go."""
        with self._lock:
            watched = self._watched.get(namespace)
            if watched is not None:
                self._expected.add(list(watched.links.names.values()))
            self._drop(namespace)

    def expect_gone(self, names: Iterable[str]) -> None:
        """Links the driver deletes: their going is not drift."""
        with self._lock:
            if self._report is not None:
                self._expected.add(list(names))

    def process_started(self, namespace: str, pid: int) -> None:
        with self._lock:
            watched = self._watched.get(namespace)
            if self._report is None or watched is None or watched.pid == pid:
                return
            self._close_pidfd(watched)
            try:
                pidfd = os.pidfd_open(pid)
            except ProcessLookupError:
                self._dirty.add(namespace)
                self._emit(f"the program of {namespace} ended")
                return
            watched.pid, watched.pidfd = pid, pidfd
            self._register(pidfd, lambda: self._process_ended(watched, pidfd))

    def process_stopping(self, namespace: str) -> None:
        """The driver stops this namespace's program: its end is not drift."""
        with self._lock:
            watched = self._watched.get(namespace)
            if watched is not None:
                self._close_pidfd(watched)

    def sync(
        self, namespaces: dict[str, bool], pids: dict[str, int], *, wan: str | None = None
    ) -> None:
        """Watches exactly `namespaces` (name: is a VNF; `wan`: the WAN side's, whose tables
        count) and the programs `pids` (worker thread)."""
        with self._lock:
            if self._report is None:
                return
            for name in [n for n in self._watched if n not in namespaces]:
                self._drop(name)
            for name, vnf in namespaces.items():
                self.track(name, vnf=vnf, wan=name == wan)
            for name, pid in pids.items():
                self.process_started(name, pid)

    def take_dirty(self) -> set[str] | None:
        """The namespaces with notifications since the last call; None when the watch does not
        run or may have lost notifications (everything must be read again)."""
        with self._lock:
            dirty, everything = self._dirty, self._all_dirty or self._report is None
            self._dirty, self._all_dirty = set(), False
            return None if everything else dirty

    @property
    def watched(self) -> list[str]:
        with self._lock:
            return sorted(self._watched)

    # the watch thread

    def _run(self) -> None:
        epoll = self._epoll
        assert epoll is not None
        while self._report is not None:
            try:
                ready = epoll.poll(1.0)
            except OSError:  # closed under us by stop()
                return
            for fd, _ in ready:
                with self._lock:
                    if self._report is None:
                        return
                    handler = self._handlers.get(fd)
                    if handler is None:
                        continue
                    self._expected.expire()
                    try:
                        handler()
                    except Exception:  # the watch must outlive a bad read
                        log.exception("drift watch: reading notifications failed")
                        self._emit("a notification could not be read")

    def _read_inotify(self) -> None:
        data = _read_all(self._inotify)
        for mask, name in inotify_records(data):
            if mask & IN_Q_OVERFLOW:
                self._all_dirty = True
                self._emit("namespace events lost")
                continue
            watched = self._watched.get(name)
            if watched is not None and namespace_inode(name) != watched.inode:
                self._drop(name)
                self._emit(f"namespace {name} deleted")

    def _read_links(self, watched: Watched, sock: socket.socket) -> None:
        for data in self._receive(sock, watched.namespace):
            self._dirty.add(watched.namespace)
            for kind, _, _, payload in messages(data):
                reason = watched.links.feed(kind, payload, self._expected)
                if reason is not None:
                    self._emit(reason)

    def _read_nft(self, watched: Watched, sock: socket.socket) -> None:
        assert watched.nft is not None
        for data in self._receive(sock, watched.namespace):
            self._dirty.add(watched.namespace)
            for kind, _, _, payload in messages(data):
                reason = watched.nft.feed(kind, payload)
                if reason is not None:
                    self._emit(reason)

    def _process_ended(self, watched: Watched, pidfd: int) -> None:
        if watched.pidfd == pidfd:
            self._close_pidfd(watched)
            self._dirty.add(watched.namespace)
            self._emit(f"the program of {watched.namespace} ended")

    def _receive(self, sock: socket.socket, where: str) -> list[bytes]:
        """Everything waiting on a monitor socket; lost notifications are drift (to be safe)."""
        found: list[bytes] = []
        for _ in range(1000):
            try:
                found.append(sock.recv(RECV_SIZE))
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                self._all_dirty = True
                self._emit(f"notifications lost in {where}")
        return found

    # book-keeping (under the lock)

    def _emit(self, reason: str) -> None:
        report = self._report
        if report is not None:
            report(reason)

    def _register(self, fd: int, handler: Callable[[], None]) -> None:
        assert self._epoll is not None
        self._handlers[fd] = handler
        self._epoll.register(fd, select.EPOLLIN)

    def _unregister(self, fd: int) -> None:
        if self._handlers.pop(fd, None) is not None and self._epoll is not None:
            with contextlib.suppress(OSError):
                self._epoll.unregister(fd)

    def _close_pidfd(self, watched: Watched) -> None:
        if watched.pidfd is not None:
            self._unregister(watched.pidfd)
            os.close(watched.pidfd)
        watched.pid = watched.pidfd = None

    def _drop(self, namespace: str) -> None:
        watched = self._watched.pop(namespace, None)
        if watched is None:
            return
        for sock in watched.sockets:
            self._unregister(sock.fileno())
            sock.close()
        self._close_pidfd(watched)

    def _close_all(self) -> None:
        for name in list(self._watched):
            self._drop(name)
        for fd in (self._inotify, self._wakeup):
            if fd >= 0:
                self._unregister(fd)
                os.close(fd)
        self._inotify = self._wakeup = -1
        if self._epoll is not None:
            self._epoll.close()
            self._epoll = None
        self._handlers.clear()
        self._thread = None


def _monitor(protocol: int, groups: int, member: int | None = None) -> socket.socket:
    """A non-blocking netlink socket in the calling thread's namespace, in `groups`/`member`."""
    kind = socket.SOCK_RAW | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
    sock = socket.socket(socket.AF_NETLINK, kind, protocol)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
        sock.bind((0, groups))
        if member is not None:
            sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, member)
    except OSError:
        sock.close()
        raise
    return sock


def _read_all(fd: int) -> bytes:
    chunks = []
    for _ in range(1000):
        try:
            chunk = os.read(fd, RECV_SIZE)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
