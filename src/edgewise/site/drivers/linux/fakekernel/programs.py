"""The fake kernel's programs and drift watch: a `kernel.ProcessSupervisor` over a table of
pretend processes, and a `kernel.DriftWatcher` told of drift by the fake kernel.

Programs live in the kernel, not in the supervisor, so a driver made again over the same fake
kernel adopts them, as the real one does through its state files. As with the real supervisor,
a program runs only while its namespace is the one it was started in, and only the supervisor
that started a program knows its exit status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from edgewise.model.functions import ProcessConfig
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.fakekernel.netlink import Refusals
from edgewise.site.drivers.linux.kernel import ProcessListener, ProcessStatus


@dataclass
class Program:
    pid: int
    inode: int  # of the namespace it was started in
    command: str
    restart: str  # the VNF's restart policy
    restarts: int
    supervisor: object  # which supervisor started it
    alive: bool = True
    exit_code: int | None = None


class FakeSupervisor:
    def __init__(
        self,
        programs: dict[str, Program],
        inode: Callable[[str], int | None],
        refusals: Refusals,
        pids: Callable[[], int],
        listener: ProcessListener | None = None,
    ) -> None:
        self._programs = programs
        self._inode = inode
        self._refusals = refusals
        self._pids = pids
        self.listener = listener
        self._id = object()

    def start(self, namespace: str, config: ProcessConfig, *, restart: bool) -> None:
        previous = self._programs.get(namespace)
        self.stop(namespace)
        inode = self._inode(namespace)
        if inode is None:
            raise DataPlaneError(f"namespace {namespace} does not exist", code="no-namespace")
        self._refusals.check("spawn", namespace)
        restarts = previous.restarts + 1 if previous is not None and restart else 0
        pid = self._pids()
        self._programs[namespace] = Program(
            pid, inode, config.command, config.restart, restarts, self._id
        )
        if self.listener is not None:
            self.listener.process_started(namespace, pid)

    def stop(self, namespace: str) -> bool:
        if self.listener is not None:
            self.listener.process_stopping(namespace)
        program = self._programs.pop(namespace, None)
        return program is not None and program.alive

    def status(self, namespace: str) -> ProcessStatus | None:
        program = self._programs.get(namespace)
        if program is None:
            return None
        exit_code = program.exit_code if program.supervisor == self._id else None
        running = program.alive and self._inode(namespace) == program.inode
        wanted = program.restart == "always" or (program.restart == "on-failure" and exit_code != 0)
        pid = program.pid if running else None
        return ProcessStatus(running, wanted, pid, program.restarts, exit_code)

    def running(self) -> dict[str, int]:
        found = {}
        for namespace in self._programs:
            status = self.status(namespace)
            if status is not None and status.pid is not None:
                found[namespace] = status.pid
        return found

    def close(self) -> None:
        """Nothing to reap: the programs keep running, to be adopted."""


class FakeWatch:
    """The drift watch over the fake kernel: while it runs, it reports the drift the kernel
    tells it of (`hear`: what a test breaks behind the driver's back, never the driver's own
    changes); it notes what the driver tells it, in `told`."""

    def __init__(self) -> None:
        self.told: list[tuple[str, str]] = []
        self._report: Callable[[str], None] | None = None

    @property
    def running(self) -> bool:
        return self._report is not None

    @property
    def watched(self) -> list[str]:
        return []

    def start(self, report: Callable[[str], None]) -> None:
        if self._report is not None:
            raise RuntimeError("the drift watch runs already")
        self._report = report

    def stop(self) -> None:
        self._report = None

    def hear(self, reason: str) -> None:
        if self._report is not None:
            self._report(reason)

    def track(self, namespace: str, *, vnf: bool, wan: bool = False) -> None:  # noqa: ARG002
        self.told.append(("track vnf" if vnf else "track", namespace))

    def forget(self, namespace: str) -> None:
        self.told.append(("forget", namespace))

    def expect_gone(self, names: Iterable[str]) -> None:
        self.told.extend(("expect gone", name) for name in names)

    def sync(
        self,
        namespaces: dict[str, bool],
        pids: dict[str, int],
        *,
        wan: str | None = None,  # noqa: ARG002 - it hears all drift
    ) -> None:
        self.told.extend(("sync", name) for name in [*namespaces, *pids])

    def process_started(self, namespace: str, pid: int) -> None:
        self.told.append((f"started {pid}", namespace))

    def process_stopping(self, namespace: str) -> None:
        self.told.append(("stopping", namespace))

    def take_dirty(self) -> set[str] | None:
        return None  # everything may have changed: read it all
