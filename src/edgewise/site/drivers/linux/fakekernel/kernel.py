"""`FakeKernel`: a host's kernel in memory, the `kernel.Kernel` of the linux driver's fast tests.

It holds named namespaces (state.Space: links, addresses, routes, qdiscs, nftables tables,
sysctls) and the programs of process VNFs, hands out FakeNetlink / FakeNftables /
FakeSupervisor over them, and runs every call at once on the caller's thread. Tests build a
driver over it (`LinuxDriver(site, kernel=FakeKernel(site.lan_netns, site.wan_netns))`), break
things behind the driver's back as an admin or a crash would (`delete_namespace`,
`set_link_down`, `flush_ruleset`, `remove_qdiscs`, `end_program`), make calls fail (`refuse`),
and look at what it holds; the drift watches it handed out hear of each such break. Simplified:
a removed namespace goes at once (the real one lingers while a socket holds it).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from edgewise.site.drivers.linux.errors import DataPlaneError, DataPlaneUnavailable
from edgewise.site.drivers.linux.fakekernel.netlink import FakeNetlink, Refusals
from edgewise.site.drivers.linux.fakekernel.nftables import FakeNftables
from edgewise.site.drivers.linux.fakekernel.programs import FakeSupervisor, FakeWatch, Program
from edgewise.site.drivers.linux.fakekernel.software import FakeSoftware, FakeSoftwareState
from edgewise.site.drivers.linux.fakekernel.state import Space
from edgewise.site.drivers.linux.kernel import ProcessListener
from edgewise.site.drivers.linux.nftjson import FAMILY, TABLE

T = TypeVar("T")
FIRST_INODE = 4026532000
FIRST_PID = 1000


@dataclass
class FakeCarrierWatch:
    namespace: str
    report: Callable[[str, bool], None]
    stopped: bool = False

    def stop(self) -> None:
        self.stopped = True


@dataclass
class FakeConntrack:
    """Records the deletions asked of it in its namespace (the fake has no flows)."""

    space: Space

    def delete_marked(self, mark: int, mask: int) -> None:
        self.space.conntrack_deleted.append((mark, mask))

    def count_marked(self, mark: int, mask: int) -> int:
        del mark, mask
        return 0  # the fake has no flows

    def close(self) -> None:
        pass


class FakeKernel:
    """The kernel in memory; `namespaces` exist from the start (a site's LAN and WAN sides)."""

    def __init__(self, *namespaces: str, can_build: bool = True) -> None:
        self.spaces: dict[str, Space] = {}
        self.programs: dict[str, Program] = {}
        self.software_sets = FakeSoftwareState()  # third-party VNFs (fakekernel/software.py)
        self.refusals = Refusals()
        self.can_build = can_build
        self.closed = False
        self._inodes = itertools.count(FIRST_INODE)
        self._pids = itertools.count(FIRST_PID)
        self._macs = itertools.count(1)
        self._handles = itertools.count(100)
        self._open: dict[int, Space] = {}  # namespace handles (namespace_fd) in use
        self._watches: list[FakeWatch] = []
        self.carrier_watches: list[FakeCarrierWatch] = []
        for name in namespaces:
            self.add_namespace(name)

    # kernel.Kernel

    async def run(self, fn: Callable[[], T]) -> T:
        return fn()

    def close(self) -> None:
        self.closed = True

    def check(self) -> None:
        if not self.can_build:
            raise DataPlaneUnavailable("the fake kernel was told it cannot build namespaces")

    def namespaces(self, prefix: str) -> list[str]:
        return sorted(name for name in self.spaces if name.startswith(prefix))

    def inode(self, namespace: str) -> int | None:
        space = self.spaces.get(namespace)
        return space.inode if space is not None else None

    def create_namespace(self, namespace: str) -> None:
        self.refusals.check("create", namespace)
        if namespace in self.spaces:
            raise DataPlaneError(f"namespace {namespace} exists already", code="exists")
        self.add_namespace(namespace)

    def remove_namespace(self, namespace: str) -> bool:
        space = self.spaces.pop(namespace, None)
        if space is None:
            return False
        space.remove()
        return True

    def write_sysctl(self, namespace: str, settings: dict[str, str]) -> None:
        self.refusals.check("sysctl", namespace)
        self._space(namespace).sysctls.update(settings)

    @contextlib.contextmanager
    def namespace_fd(self, namespace: str) -> Iterator[int]:
        handle = next(self._handles)
        self._open[handle] = self._space(namespace)
        try:
            yield handle
        finally:
            del self._open[handle]

    @contextlib.contextmanager
    def open_netlink(self, namespace: str) -> Iterator[FakeNetlink]:
        yield FakeNetlink(self._space(namespace), self.refusals, self._open.get, self._mac)

    def open_nftables(self, namespace: str) -> FakeNftables:
        return FakeNftables(self._space(namespace), self.refusals)

    def open_conntrack(self, namespace: str) -> FakeConntrack:
        return FakeConntrack(self._space(namespace))

    def supervisor(self, runtime_dir: Path, listener: ProcessListener) -> FakeSupervisor:  # noqa: ARG002 - state lives in the kernel
        return FakeSupervisor(self.programs, self.inode, self.refusals, self._pid, listener)

    def software(
        self,
        base: Path,
        listener: ProcessListener,  # noqa: ARG002 - the fake drift watch hears no programs
        *,
        may_install: bool,
    ) -> FakeSoftware:
        return FakeSoftware(self.software_sets, base, self.inode, self.refusals,
                            may_install=may_install)  # fmt: skip

    def drift_watch(self, prefix: str) -> FakeWatch:  # noqa: ARG002 - it hears all drift
        watch = FakeWatch()
        self._watches.append(watch)
        return watch

    def watch_carrier(
        self,
        namespace: str,
        report: Callable[[str, bool], None],
        tick: Callable[[], float | None],  # noqa: ARG002 - a test calls the steerer's tick
        interfaces: Callable[[], list[str]],  # noqa: ARG002 - set_carrier tells every change
    ) -> FakeCarrierWatch:
        watch = FakeCarrierWatch(namespace, report)
        self.carrier_watches.append(watch)
        return watch

    def set_carrier(self, namespace: str, name: str, *, carrier: bool) -> None:
        """The far end of `name` (a veth) goes down or up: its carrier changes, and the
        carrier watches of `namespace` hear it at once."""
        space = self.space(namespace)
        link = space.find(name)
        peer = space.peer_of(link) if link is not None else None
        if link is None or peer is None:
            raise KeyError(name)
        peer.up = carrier
        for watch in self.carrier_watches:
            if watch.namespace == namespace and not watch.stopped:
                watch.report(name, carrier and link.up)

    # set-up, and what an admin or a crash does behind the driver's back

    def add_namespace(self, namespace: str) -> Space:
        space = Space(namespace, next(self._inodes))
        self.spaces[namespace] = space
        return space

    def delete_namespace(self, namespace: str) -> None:
        """`ip netns del`."""
        if not self.remove_namespace(namespace):
            raise KeyError(namespace)
        self._tell(f"namespace {namespace} deleted")

    def set_link_down(self, namespace: str, name: str) -> None:
        """`ip link set <name> down` inside `namespace`."""
        space = self.space(namespace)
        link = space.find(name)
        if link is None:
            raise KeyError(name)
        space.set_state(link, up=False)
        self._tell(f"link {name} down in {namespace}")

    def flush_ruleset(self, namespace: str) -> None:
        """`nft flush ruleset` inside `namespace`."""
        self.space(namespace).tables.clear()
        self._tell(f"ruleset changed in {namespace}")

    def remove_qdiscs(self, namespace: str) -> None:
        """`tc qdisc del dev <leg> root` of every leg inside `namespace`."""
        self.space(namespace).qdiscs.clear()  # (the real drift watch does not hear tc)

    def end_program(self, namespace: str, exit_code: int = -9) -> None:
        """The program of a process VNF ends (by default killed by SIGKILL)."""
        program = self.programs[namespace]
        program.alive, program.exit_code = False, exit_code
        self._tell(f"the program of {namespace} ended")

    def refuse(self, what: str, namespace: str, message: str = "refused by the test") -> None:
        """Makes `what` ("netlink", "nftables", "create", "sysctl", "spawn") fail there."""
        self.refusals.refused[what, namespace] = message

    def allow(self, what: str, namespace: str) -> None:
        self.refusals.refused.pop((what, namespace), None)

    # looking

    def space(self, namespace: str) -> Space:
        """The namespace's objects (KeyError when it does not exist)."""
        return self.spaces[namespace]

    def table(self, namespace: str) -> list[dict[str, Any]] | None:
        """The VNF table (`inet edgewise`) as listed, None when it is not there."""
        return FakeNftables(self.space(namespace), Refusals()).list_table(FAMILY, TABLE)

    # inside

    def _space(self, namespace: str) -> Space:
        space = self.spaces.get(namespace)
        if space is None:
            raise DataPlaneError(f"namespace {namespace} does not exist", code="no-namespace")
        return space

    def _tell(self, reason: str) -> None:
        for watch in self._watches:
            watch.hear(reason)

    def _pid(self) -> int:
        return next(self._pids)

    def _mac(self) -> str:
        n = next(self._macs)
        return f"02:fa:ce:{n >> 16 & 0xFF:02x}:{n >> 8 & 0xFF:02x}:{n & 0xFF:02x}"
