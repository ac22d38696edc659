"""Process VNFs (worker thread): the configured program, started inside the VNF's namespace.

The program is spawned (posix_spawn) from the worker thread while it is inside the namespace
(the child inherits the thread's namespace), in a session of its own, so it outlives the
controller. A
state file per VNF (`<runtime_dir>/<namespace>.json`: pid, start time, namespace inode, restart
policy, restarts) is how a restarted controller adopts it: a pid counts only when
/proc/<pid>/stat shows the same start time (pids are reused) and /proc/<pid>/ns/net is the
VNF's namespace. No cgroup and no pidfile lock are needed. Output goes to `<namespace>.log`.

Restart policy (ProcessConfig.restart): a dead program must run again ("unhealthy") under
`always`, and under `on-failure` unless it exited with status 0; under `never` it stays down
and is not reported unhealthy (the reconciler would otherwise rebuild, hence restart, it).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from edgewise.model.functions import ProcessConfig
from edgewise.site.drivers.linux.children import Children
from edgewise.site.drivers.linux.errors import DataPlaneError, DataPlaneUnavailable
from edgewise.site.drivers.linux.kernel import ProcessListener, ProcessStatus
from edgewise.site.drivers.linux.netns import NamespaceWorker, namespace_inode

STOP_WAIT_S = 1.0
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class ProcessRecord:
    pid: int
    start_time: int
    netns_inode: int
    restart: str
    restarts: int = 0


def proc_start_time(pid: int) -> int | None:
    """The start time (clock ticks since boot) of a live, non-zombie process; None otherwise."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def inherited_fds() -> list[int]:
    """This process's descriptors above 2 that a spawned program would inherit.

    libnftables opens its netlink socket without close-on-exec: a program must not get those of
    the driver's contexts, which would talk to (and keep alive) other VNFs' namespaces.
    """
    found = []
    for entry in Path("/proc/self/fd").iterdir():
        fd = int(entry.name)
        if fd > 2:
            with contextlib.suppress(OSError):  # the listing's own, closed by now
                if os.get_inheritable(fd):
                    found.append(fd)
    return found


def proc_netns_inode(pid: int) -> int | None:
    try:
        return Path(f"/proc/{pid}/ns/net").stat().st_ino
    except OSError:
        return None


class Supervisor:
    """Starts, stops and checks the programs of process VNFs; one state file per VNF
    (`kernel.ProcessSupervisor`). One made without a `worker` reads and stops, never starts."""

    def __init__(
        self,
        runtime_dir: Path,
        listener: ProcessListener | None = None,
        worker: NamespaceWorker | None = None,
    ) -> None:
        self.runtime_dir = runtime_dir
        self.listener = listener
        self.worker = worker
        self._children = Children()  # what we spawned: reaped here, by its pid

    def _state(self, namespace: str) -> Path:
        return self.runtime_dir / f"{namespace}.json"

    def record(self, namespace: str) -> ProcessRecord | None:
        try:
            return ProcessRecord(**json.loads(self._state(namespace).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def start(self, namespace: str, config: ProcessConfig, *, restart: bool) -> None:
        """Starts the program in `namespace` (worker thread), stopping one recorded before."""
        worker = self.worker
        if worker is None:
            raise DataPlaneUnavailable("this supervisor has no namespace worker to start with")
        previous = self.record(namespace)
        self.stop(namespace)
        inode = namespace_inode(namespace)
        if inode is None:
            raise DataPlaneError(f"namespace {namespace} does not exist", code="no-namespace")
        self.runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = {"PATH": os.environ.get("PATH", DEFAULT_PATH), **dict(config.env)}
        log = self.runtime_dir / f"{namespace}.log"
        actions: list[tuple[int | str, ...]] = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ]
        actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in inherited_fds()]
        with worker.inside(namespace):  # the child is made in the thread's namespace
            try:
                pid = os.posix_spawnp(
                    config.command,
                    [config.command, *config.args],
                    env,
                    file_actions=actions,
                    setsid=True,  # its own session: it outlives the controller
                )
            except OSError as exc:
                raise DataPlaneError(f"starting {config.command} in {namespace}: {exc}") from exc
        self._children.add(pid)
        if self.listener is not None:
            self.listener.process_started(namespace, pid)
        start_time = proc_start_time(pid) or 0
        restarts = previous.restarts + 1 if previous is not None and restart else 0
        record = ProcessRecord(pid, start_time, inode, config.restart, restarts)
        path = self._state(namespace)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(record)))
        temporary.replace(path)

    def status(self, namespace: str) -> ProcessStatus | None:
        """The recorded program's state; None when no program is recorded for `namespace`."""
        record = self.record(namespace)
        if record is None:
            return None
        exit_code = self._reap(record.pid)
        running = proc_start_time(record.pid) == record.start_time and proc_netns_inode(
            record.pid
        ) == record.netns_inode == namespace_inode(namespace)
        wanted = record.restart == "always" or (record.restart == "on-failure" and exit_code != 0)
        pid = record.pid if running else None
        return ProcessStatus(running, wanted, pid, record.restarts, exit_code)

    def stop(self, namespace: str) -> bool:
        """Stops the recorded program (its whole session) and forgets it; False if none ran."""
        record = self.record(namespace)
        if self.listener is not None:
            self.listener.process_stopping(namespace)
        self._state(namespace).unlink(missing_ok=True)
        if record is None or proc_start_time(record.pid) != record.start_time:
            if record is not None:
                self._reap(record.pid)
            return False
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(record.pid, sig)
            deadline = time.monotonic() + STOP_WAIT_S
            while time.monotonic() < deadline:
                self._reap(record.pid)
                if proc_start_time(record.pid) != record.start_time:
                    return True
                time.sleep(0.01)
        return True

    def running(self) -> dict[str, int]:
        """The pid of every recorded program still running, by namespace."""
        found = {}
        for state in self.runtime_dir.glob("*.json"):
            namespace = state.name.removesuffix(".json")
            status = self.status(namespace)
            if status is not None and status.pid is not None:
                found[namespace] = status.pid
        return found

    def _reap(self, pid: int) -> int | None:
        return self._children.reap(pid)

    def close(self) -> None:
        """Reaps the children that ended; the others keep running, to be adopted."""
        self._children.reap_ended()
