"""The kernel as the driver's worker thread sees it: enter a namespace, then netlink or nftables.

Every method runs in the NamespaceWorker's thread (the driver submits whole operations there).
Within one operation, the netlink socket and libnftables context of each namespace are opened
once and reused (a socket keeps talking to the namespace it was opened in); `session` closes
them all at the end, so no socket of ours keeps a deleted namespace alive.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import TypeVar

from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.netlink import Netlink, open_netlink
from edgewise.site.drivers.linux.netns import NETNS_DIR, NamespaceWorker, remove_namespace
from edgewise.site.drivers.linux.nft import Nft

T = TypeVar("T")


class Host:
    def __init__(self, worker: NamespaceWorker) -> None:
        self.worker = worker
        self._netlink: dict[str, contextlib.ExitStack] = {}
        self._sockets: dict[str, Netlink] = {}
        self._nft: dict[str, Nft] = {}

    def session(self, fn: Callable[[], T]) -> T:
        """Runs `fn` (worker thread), then closes every socket it opened."""
        try:
            return fn()
        finally:
            for name in list(self._netlink):
                self.forget(name)
            self._nft.clear()

    @contextlib.contextmanager
    def netlink(self, namespace: str) -> Iterator[Netlink]:
        """Netlink inside `namespace` (opened once per session)."""
        if namespace not in self._sockets:
            stack = contextlib.ExitStack()
            with self.worker.inside(namespace):
                self._sockets[namespace] = stack.enter_context(open_netlink(namespace))
            self._netlink[namespace] = stack
        yield self._sockets[namespace]

    @contextlib.contextmanager
    def nft(self, namespace: str) -> Iterator[Nft]:
        """A libnftables context inside `namespace` (opened once per session)."""
        if namespace not in self._nft:
            with self.worker.inside(namespace):
                self._nft[namespace] = Nft(namespace)
        yield self._nft[namespace]

    def forget(self, namespace: str) -> None:
        """Closes what is open in `namespace` (before it is removed or made anew)."""
        self._sockets.pop(namespace, None)
        self._nft.pop(namespace, None)
        stack = self._netlink.pop(namespace, None)
        if stack is not None:
            stack.close()

    def create_namespace(self, namespace: str) -> None:
        self.forget(namespace)
        self.worker.create(namespace)

    def remove_namespace(self, namespace: str) -> bool:
        self.forget(namespace)
        return remove_namespace(namespace)

    @contextlib.contextmanager
    def namespace_fd(self, namespace: str) -> Iterator[int]:
        try:
            fd = os.open(NETNS_DIR / namespace, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError as exc:
            raise DataPlaneError(
                f"namespace {namespace} does not exist", code="no-namespace"
            ) from exc
        try:
            yield fd
        finally:
            os.close(fd)

    def write_sysctl(self, namespace: str, settings: dict[str, str]) -> None:
        """Writes /proc/sys/net values as seen from inside `namespace`."""
        with self.worker.inside(namespace):
            for key, value in settings.items():
                path = "/proc/sys/" + key.replace(".", "/")
                try:
                    with open(path, "w") as handle:  # noqa: PTH123 - one small write per key
                        handle.write(value)
                except OSError as exc:
                    raise DataPlaneError(f"sysctl {key} in {namespace}: {exc}") from exc
