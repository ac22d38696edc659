"""The kernel as the driver's operations see it: netlink or nftables in a namespace, kept open.

Host wraps the driver's `kernel.Kernel` (the real one or a fake): every method runs inside
`Kernel.run` (the real kernel's worker thread: the driver submits whole operations there).
The netlink socket and libnftables context of each namespace are opened once and kept across
calls (opening and closing them cost more than the requests: ~1.5 ms to close a pyroute2
socket). A kept socket holds its namespace alive, so each one remembers the inode it was opened
in: `release_stale` (run by every
observe) releases those whose namespace is gone or was made anew (someone ran
`ip netns del`), and at most `capacity` namespaces are kept (least recently used go first).
A libnftables context keeps some 0.5 MiB once it has read a table (its cache allocates four
hash tables of 8,192 buckets per table), so at most `nft_capacity` of them are kept.
The drift watch (watch.py) hears from here what the driver builds and removes.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from edgewise.site.drivers.linux.errors import DataPlaneError, DataPlaneUnavailable
from edgewise.site.drivers.linux.kernel import Kernel, Netlink, Nftables
from edgewise.site.drivers.linux.layout import SiteNetwork

T = TypeVar("T")


@dataclass
class Handles:
    """What is open in one namespace, and the inode of the namespace it was opened in."""

    inode: int
    netlink: Netlink | None = None
    closer: contextlib.ExitStack | None = None
    nft: Nftables | None = None

    def close(self) -> None:
        if self.closer is not None:
            self.closer.close()
        self.netlink = self.closer = self.nft = None


class Host:
    def __init__(
        self,
        kernel: Kernel,
        runtime_dir: Path,
        prefix: str,
        capacity: int = 512,
        nft_capacity: int = 32,
    ) -> None:
        self.kernel = kernel
        self.watch = kernel.drift_watch(prefix)
        self.processes = kernel.supervisor(runtime_dir, self.watch)
        self.capacity = capacity
        self.nft_capacity = nft_capacity
        self._open: OrderedDict[str, Handles] = OrderedDict()
        self._with_nft: OrderedDict[str, Handles] = OrderedDict()  # least recently used first

    def session(self, fn: Callable[[], T]) -> T:
        """Runs `fn` (worker thread)."""
        return fn()

    def release_stale(self) -> None:
        """Closes what is open in namespaces gone or made anew (observe calls it first)."""
        for name, handles in list(self._open.items()):
            if self.kernel.inode(name) != handles.inode:
                self.forget(name)

    def close(self) -> None:
        """Closes everything still open (worker thread); process VNFs keep running."""
        for name in list(self._open):
            self.forget(name)
        self.processes.close()

    def _handles(self, namespace: str) -> Handles:
        inode = self.kernel.inode(namespace)
        if inode is None:
            self.forget(namespace)
            raise DataPlaneError(f"namespace {namespace} does not exist", code="no-namespace")
        handles = self._open.get(namespace)
        if handles is not None and handles.inode != inode:
            self.forget(namespace)
            handles = None
        if handles is None:
            handles = self._open[namespace] = Handles(inode)
            while len(self._open) > self.capacity:
                self.forget(next(iter(self._open)))
        else:
            self._open.move_to_end(namespace)
        return handles

    @contextlib.contextmanager
    def netlink(self, namespace: str) -> Iterator[Netlink]:
        """Netlink inside `namespace` (opened once, kept while the namespace lives)."""
        handles = self._handles(namespace)
        if handles.netlink is None:
            stack = contextlib.ExitStack()
            handles.netlink = stack.enter_context(self.kernel.open_netlink(namespace))
            handles.closer = stack
        yield handles.netlink

    @contextlib.contextmanager
    def nft(self, namespace: str) -> Iterator[Nftables]:
        """A libnftables context inside `namespace` (kept for the `nft_capacity` used last)."""
        handles = self._handles(namespace)
        if handles.nft is None:
            handles.nft = self.kernel.open_nftables(namespace)
            while len(self._with_nft) >= self.nft_capacity:
                _, oldest = self._with_nft.popitem(last=False)
                oldest.nft = None
        self._with_nft[namespace] = handles
        self._with_nft.move_to_end(namespace)
        yield handles.nft

    def forget(self, namespace: str) -> None:
        """Closes what is open in `namespace` (before it is removed or made anew)."""
        handles = self._open.pop(namespace, None)
        if handles is not None:
            handles.close()
            if self._with_nft.get(namespace) is handles:
                del self._with_nft[namespace]

    def create_namespace(self, namespace: str) -> None:
        """Creates a VNF's namespace (and watches it while the drift watch runs)."""
        self.forget(namespace)
        self.kernel.create_namespace(namespace)
        self.watch.track(namespace, vnf=True)

    def remove_namespace(self, namespace: str) -> bool:
        self.forget(namespace)
        self.watch.forget(namespace)  # first: its sockets would keep the namespace alive
        return self.kernel.remove_namespace(namespace)

    def delete_link(self, namespace: str, index: int, name: str) -> None:
        """Deletes a link (and a veth's peer): the driver's doing, not drift."""
        self.watch.expect_gone([name])
        with self.netlink(namespace) as nl:
            nl.delete(index)

    def namespace_fd(self, namespace: str) -> AbstractContextManager[int]:
        """A handle on `namespace` for the peer end of a veth (`Netlink.add_veth`)."""
        return self.kernel.namespace_fd(namespace)

    def write_sysctl(self, namespace: str, settings: dict[str, str]) -> None:
        """Writes /proc/sys/net values as seen from inside `namespace`."""
        self.kernel.write_sysctl(namespace, settings)


def check_sides(kernel: Kernel, site: SiteNetwork) -> None:
    """Raises DataPlaneUnavailable unless the kernel can build and the site's sides exist."""
    kernel.check()
    for side, name in (("LAN", site.lan_netns), ("WAN", site.wan_netns)):
        if kernel.inode(name) is None:
            raise DataPlaneUnavailable(f"the site's {side}-side namespace {name} does not exist")
