"""Starting a VNF's programs, hooks and readiness commands inside its network namespace (from the
namespace worker, as processes.py does), each in a session of its own so it outlives the
controller, put in its cgroups before bubblewrap runs (a shell that writes its own pid, then
execs); checking, signalling and stopping them by pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from edgewise.site.drivers.linux.children import Children
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.netns import NamespaceWorker
from edgewise.site.drivers.linux.processes import inherited_fds, proc_start_time

STOP_WAIT_S = 1.0
POLL_S = 0.02
JOIN_CGROUPS = (  # sh -c JOIN_CGROUPS sh N procs-file... argv: joins the groups, then execs
    'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 126; shift; n=$((n - 1)); '
    'done; exec "$@"'
)


class Spawner:
    """Spawns in a namespace and reaps what it spawned (the exit status of a program is known
    only to the controller that started it)."""

    def __init__(self, worker: NamespaceWorker) -> None:
        self.worker = worker
        self._children = Children()

    def spawn(
        self,
        namespace: str,
        argv: Sequence[str],
        env: dict[str, str],
        log: Path,
        cgroups: Sequence[Path] = (),
    ) -> int:
        if cgroups:
            argv = ["/bin/sh", "-c", JOIN_CGROUPS, "sh", str(len(cgroups)),
                    *map(str, cgroups), *argv]  # fmt: skip
        log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        actions: list[tuple[int | str, ...]] = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ]
        actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in inherited_fds()]
        with self.worker.inside(namespace):
            try:
                pid = os.posix_spawnp(argv[0], list(argv), env, file_actions=actions,
                                      setsid=True)  # fmt: skip
            except OSError as exc:
                raise DataPlaneError(f"starting {argv[0]} in {namespace}: {exc}") from exc
        self._children.add(pid)
        return pid

    def run(
        self, namespace: str, argv: Sequence[str], env: dict[str, str], log: Path, timeout_s: float
    ) -> int | None:
        """Runs a command to its end: its exit status, None when it ran out of time (killed)."""
        pid = self.spawn(namespace, argv, env, log)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            code = self.reap(pid)
            if code is not None:
                return code
            time.sleep(POLL_S)
        stop(pid, None, self)
        return None

    def reap(self, pid: int) -> int | None:
        """The exit status of a child of ours that ended (reaping it), else None."""
        return self._children.reap(pid)

    def close(self) -> None:
        self._children.reap_ended()


def alive(pid: int | None, start_time: int | None) -> bool:
    return pid is not None and start_time is not None and proc_start_time(pid) == start_time


def program_pid(pid: int) -> int | None:
    """The confined program: the child of the bubblewrap process `pid`."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def send(pid: int, signum: int) -> bool:
    """Sends `signum` to the program bubblewrap runs as `pid`; False when there is none."""
    target = program_pid(pid)
    if target is None:
        return False
    try:
        os.kill(target, signum)
    except ProcessLookupError:
        return False
    return True


def stop(pid: int, start_time: int | None, spawner: Spawner | None = None) -> bool:
    """Stops a program's whole session (TERM, then KILL); False when it was not running."""
    started = proc_start_time(pid)
    if started is None or (start_time is not None and started != start_time):
        if spawner is not None:
            spawner.reap(pid)
        return False
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signum)
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline:
            if spawner is not None:
                spawner.reap(pid)
            if proc_start_time(pid) != started:
                return True
            time.sleep(0.01)
    return True


def listening(pid: int, kind: str, port: int) -> bool:
    """Whether the namespace of `pid` has a TCP socket listening on `port` (what a connect would
    find) or a UDP socket bound to it: its /proc/<pid>/net tables."""
    files = ("tcp", "tcp6") if kind == "tcp" else ("udp", "udp6")
    for name in files:
        try:
            lines = Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 4:
                continue
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and (kind == "udp" or fields[3] == "0A"):
                return True
    return False
