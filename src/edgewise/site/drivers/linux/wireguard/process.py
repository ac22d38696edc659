"""wireguard-go, one process per overlay device: started in the foreground inside the device's
namespace (spawned from the namespace worker's thread while it is switched in, so the TUN is
made there), supervised by pid, stopped by pid.

It runs in the controller's session, in a process group of its own: the group keeps the
controller's Ctrl-C and job control away from it (it outlives the controller, to be adopted);
staying in the session keeps it in the controller's scheduler autogroup. A session of its own
(setsid) made each wireguard-go an autogroup of its own: in 7 of 12 measured runs that cost
11-43% more CPU per GB than a wireguard-go started by hand (docs/overlay.md, "Throughput").

A state file per device (`<run_dir>/<name>.json`: pid, start time, namespace inode) lets a
restarted controller adopt a running process: the pid counts only when /proc shows the same
start time and the same namespace. Output goes to `<run_dir>/<name>.log`. The UAPI socket of
every wireguard-go is /var/run/wireguard/<name>.sock whatever its namespace, so a socket of
that name that answers but is not our process means the name is taken: refused, not reused.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from edgewise.site.drivers.linux.netns import NamespaceWorker, namespace_inode
from edgewise.site.drivers.linux.processes import inherited_fds, proc_netns_inode, proc_start_time
from edgewise.site.drivers.linux.wireguard.errors import (
    OverlayConfigError,
    OverlayError,
    OverlayUnavailable,
)
from edgewise.site.drivers.linux.wireguard.uapi import SOCKET_DIR, UapiSocket

PROGRAM = "wireguard-go"
READY_WAIT_S = 5.0
STOP_WAIT_S = 2.0


@dataclass(frozen=True)
class ProcessRecord:
    pid: int
    start_time: int
    netns_inode: int


def find_program() -> str:
    found = shutil.which(PROGRAM)
    if found is None:
        raise OverlayUnavailable(
            f"{PROGRAM} is not installed (Debian package wireguard-go) and this kernel has no "
            "WireGuard module: no overlay device can be made here"
        )
    return found


class WireGuardGo:
    """Starts, adopts, checks and stops the wireguard-go of each device under `run_dir`."""

    def __init__(
        self, run_dir: Path, worker: NamespaceWorker, socket_dir: Path = SOCKET_DIR
    ) -> None:
        self.run_dir = run_dir
        self.worker = worker
        self.socket_dir = socket_dir
        self._children: set[int] = set()

    def record(self, name: str) -> ProcessRecord | None:
        try:
            return ProcessRecord(**json.loads((self.run_dir / f"{name}.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def running(self, name: str, namespace: str) -> int | None:
        """The pid of the device's process when it runs in `namespace` (as recorded)."""
        record = self.record(name)
        if record is None:
            return None
        self._reap()
        inode = namespace_inode(namespace)
        alive = proc_start_time(record.pid) == record.start_time
        if alive and inode == record.netns_inode == proc_netns_inode(record.pid):
            return record.pid
        return None

    def names(self) -> list[str]:
        """The devices with a state file (running or not)."""
        return sorted(p.stem for p in self.run_dir.glob("*.json"))

    def start(self, name: str, namespace: str) -> int:
        """Starts wireguard-go for `name` in `namespace` (worker thread), waits until its socket
        answers; the pid. A process recorded before is stopped first."""
        program = find_program()
        self.stop(name)
        uapi = UapiSocket(name, self.socket_dir)
        if uapi.answers():
            raise OverlayConfigError(
                f"overlay device name {name} is taken: {uapi.path} answers and is not a "
                "process of this site controller (names must be unique on the host)"
            )
        inode = namespace_inode(namespace)
        if inode is None:
            raise OverlayError(f"namespace {namespace} of overlay device {name} does not exist")
        self.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        log = self.run_dir / f"{name}.log"
        actions: list[tuple[int | str, ...]] = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ]
        actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in inherited_fds()]
        env = {"WG_PROCESS_FOREGROUND": "1", "LOG_LEVEL": "error", "PATH": os.defpath}
        with self.worker.inside(namespace):  # the child (and its TUN) is made in there
            try:
                pid = os.posix_spawn(
                    program, [program, "-f", name], env, file_actions=actions, setpgroup=0
                )
            except OSError as exc:
                raise OverlayError(f"starting {program} for {name} in {namespace}: {exc}") from exc
        self._children.add(pid)
        record = ProcessRecord(pid, proc_start_time(pid) or 0, inode)
        state = self.run_dir / f"{name}.json"
        temporary = state.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(record)))
        temporary.replace(state)
        self._wait_ready(name, pid, uapi, log)
        return pid

    def _wait_ready(self, name: str, pid: int, uapi: UapiSocket, log: Path) -> None:
        deadline = time.monotonic() + READY_WAIT_S
        while time.monotonic() < deadline:
            self._reap()
            if proc_start_time(pid) is None:
                tail = log.read_text(errors="replace").strip()[-300:]
                raise OverlayError(f"{PROGRAM} for {name} exited at start: {tail or 'no output'}")
            if uapi.answers():
                return
            time.sleep(0.01)
        self.stop(name)
        raise OverlayError(f"{PROGRAM} for {name} did not open {uapi.path} in {READY_WAIT_S} s")

    def stop(self, name: str) -> bool:
        """Stops the recorded process by pid (TERM, then KILL) and forgets it; False if none ran."""
        record = self.record(name)
        (self.run_dir / f"{name}.json").unlink(missing_ok=True)
        if record is None or proc_start_time(record.pid) != record.start_time:
            self._reap()
            if record is not None:
                self._forget_socket(name)
            return False
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.pid, sig)
            if self._ended(record):
                break
        self._forget_socket(name)
        return True

    def _forget_socket(self, name: str) -> None:
        """Removes the socket file a killed wireguard-go of ours left, unless it answers (then
        another process holds the name now, and it is not ours to remove)."""
        uapi = UapiSocket(name, self.socket_dir)
        if not uapi.answers():
            uapi.path.unlink(missing_ok=True)

    def _ended(self, record: ProcessRecord) -> bool:
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline:
            self._reap()
            if proc_start_time(record.pid) != record.start_time:
                return True
            time.sleep(0.01)
        return False

    def _reap(self) -> None:
        for pid in list(self._children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self._children.discard(pid)
