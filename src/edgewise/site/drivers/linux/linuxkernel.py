"""The real `kernel.Kernel`: one worker thread switching namespace (netns.py), netlink through
pyroute2's messages (netlink.py), libnftables in-process (nft.py), posix_spawn'd programs
(processes.py) and the drift watch (watch.py). Nothing here but wiring them together.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from edgewise.site.drivers.linux.conntrack import CtnetlinkSocket
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.kernel import Netlink, Nftables, ProcessListener
from edgewise.site.drivers.linux.netlink import netlink_errors, open_netlink
from edgewise.site.drivers.linux.netns import (
    NETNS_DIR,
    NamespaceWorker,
    check_host,
    list_namespaces,
    namespace_inode,
    remove_namespace,
)
from edgewise.site.drivers.linux.nft import LibNftables
from edgewise.site.drivers.linux.processes import Supervisor
from edgewise.site.drivers.linux.software.supervisor import SoftwareSupervisor
from edgewise.site.drivers.linux.wancarrier import CarrierWatch
from edgewise.site.drivers.linux.watch import DriftWatch

T = TypeVar("T")


class LinuxKernel:
    """This host's kernel; every call but `run` and `close` runs in the worker thread."""

    def __init__(self) -> None:
        self.worker = NamespaceWorker()

    async def run(self, fn: Callable[[], T]) -> T:
        return await self.worker.run(fn)

    def close(self) -> None:
        self.worker.close()

    def check(self) -> None:
        check_host()

    def namespaces(self, prefix: str) -> list[str]:
        return list_namespaces(prefix)

    def inode(self, namespace: str) -> int | None:
        return namespace_inode(namespace)

    def create_namespace(self, namespace: str) -> None:
        self.worker.create(namespace)

    def remove_namespace(self, namespace: str) -> bool:
        return remove_namespace(namespace)

    def write_sysctl(self, namespace: str, settings: dict[str, str]) -> None:
        with self.worker.inside(namespace):
            for key, value in settings.items():
                path = "/proc/sys/" + key.replace(".", "/")
                try:
                    with open(path, "w") as handle:  # noqa: PTH123 - one small write per key
                        handle.write(value)
                except OSError as exc:
                    raise DataPlaneError(f"sysctl {key} in {namespace}: {exc}") from exc

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

    @contextlib.contextmanager
    def open_netlink(self, namespace: str) -> Iterator[Netlink]:
        with contextlib.ExitStack() as stack:
            with self.worker.inside(namespace):  # the socket talks to where it was made
                netlink = stack.enter_context(open_netlink(namespace))
            yield netlink

    def open_nftables(self, namespace: str) -> Nftables:
        with self.worker.inside(namespace):
            return LibNftables(namespace)

    def open_conntrack(self, namespace: str) -> CtnetlinkSocket:
        with self.worker.inside(namespace), netlink_errors(f"opening ctnetlink in {namespace}"):
            return CtnetlinkSocket(namespace)

    def supervisor(self, runtime_dir: Path, listener: ProcessListener) -> Supervisor:
        return Supervisor(runtime_dir, listener, self.worker)

    def software(
        self, base: Path, listener: ProcessListener, *, may_install: bool
    ) -> SoftwareSupervisor:
        return SoftwareSupervisor(base, self.worker, listener, may_install=may_install)

    def drift_watch(self, prefix: str) -> DriftWatch:
        return DriftWatch(self.worker, prefix)

    def watch_carrier(
        self,
        namespace: str,
        report: Callable[[str, bool], None],
        tick: Callable[[], float | None],
        interfaces: Callable[[], list[str]],
    ) -> CarrierWatch:
        watch = CarrierWatch(self.worker, namespace, report, tick, interfaces)
        watch.start()
        return watch
