"""The supervisor of third-party VNFs (worker thread): deploys, reloads, heals, observes and
removes each VNF's set of confined programs (`kernel.SoftwareRunner`).

A VNF is prepared when its namespace is built (Debian packages checked, directories made) and
started once its legs are wired (the templates name its interfaces): files rendered, the
instantiate hooks around the programs' first start; the programs start in the package's
order, each with a probe ready (its grace at most) before the next. Its state file lets a
restarted controller adopt the programs. Observing judges each program (health.py); a
program whose restart is due makes the VNF unhealthy, and the reconciler's restart (`heal`)
restarts the set between the heal hooks. A new configuration is applied by the package's
reload mode without touching the namespace; if it does not take, the previous files come back
and are applied again.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from edgewise.model.software import SoftwareConfig
from edgewise.site.drivers.linux.errors import DataPlaneError, DataPlaneUnavailable
from edgewise.site.drivers.linux.kernel import ProcessListener
from edgewise.site.drivers.linux.netns import NamespaceWorker, namespace_inode
from edgewise.site.drivers.linux.processes import proc_start_time
from edgewise.site.drivers.linux.software import health, packages, spawn
from edgewise.site.drivers.linux.software.cgroups import CgroupsV1
from edgewise.site.drivers.linux.software.confine import HostEntry, HostLister, confinement
from edgewise.site.drivers.linux.software.errors import ReloadFailed
from edgewise.site.drivers.linux.software.facts import VnfDirs
from edgewise.site.drivers.linux.software.files import restore, write_files
from edgewise.site.drivers.linux.software.render import ProgramRun, Rendering, render
from edgewise.site.drivers.linux.software.state import ProgramRecord, VnfRecord, load, save
from edgewise.site.drivers.linux.software.values import WAITING, Deployment, SoftwareStatus

log = logging.getLogger(__name__)
SETTLE_S = 0.5  # a program without a probe must live this long after a reload
ORDER_POLL_S = 0.05  # how often a program's probe is tried before the next program starts


def note_config(record: VnfRecord, deployment: Deployment) -> None:
    """The record says the set now runs `deployment`'s config (heal count included)."""
    record.digest, record.settled_digest = deployment.digest, deployment.settled_digest
    record.heal = deployment.config.heal


def list_host(directory: str) -> list[HostEntry] | None:
    try:
        entries = sorted(Path(directory).iterdir())
    except OSError:
        return None
    return [HostEntry(e.name, str(e.readlink()) if e.is_symlink() else None) for e in entries]


def make_dir(path: Path, mode: int) -> None:
    """`path` (and its parents) with `mode` whatever the umask: programs that switch to their
    own user must traverse a VNF's directories to its files and sockets."""
    made = [p for p in reversed(path.parents) if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
        for parent in made:
            parent.chmod(0o755)
        path.chmod(mode)
    except OSError as exc:
        raise DataPlaneError(f"making {path}: {exc}") from exc


class SoftwareSupervisor:
    def __init__(
        self,
        base: Path,
        worker: NamespaceWorker | None,
        listener: ProcessListener | None = None,
        *,
        may_install: bool = False,
        cgroups: CgroupsV1 | None = None,
        query: packages.Query = packages.installed_version,
        host: HostLister = list_host,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base = base
        self.spawner = spawn.Spawner(worker) if worker is not None else None
        self.listener = listener  # the drift watch: told of the first program of each set
        self.may_install = may_install
        self.cgroups = cgroups or CgroupsV1()
        self.query = query
        self.host = host
        self.clock = clock
        self._probed: dict[tuple[str, str], tuple[float, bool]] = {}  # (ns, program) -> when, ok
        self._ready_at: dict[tuple[str, str], float] = {}  # when each last passed its probe

    def dirs(self, namespace: str) -> VnfDirs:
        return VnfDirs(self.base / namespace)

    def record(self, namespace: str) -> VnfRecord | None:
        return load(self.dirs(namespace).state)

    # -- life cycle ---------------------------------------------------------------------------

    def prepare(self, namespace: str, config: SoftwareConfig, digest: str) -> None:
        """At build: the packages are there (or installed, if allowed), the directories made."""
        packages.ensure(config.packages, may_install=self.may_install, query=self.query)
        dirs = self.dirs(namespace)
        for path, mode in ((self.base, 0o755), (dirs.base, 0o755), (dirs.root, 0o755),
                           (dirs.run, 0o755), (dirs.log, 0o700)):  # fmt: skip
            make_dir(path, mode)
        if self.record(namespace) is None:
            save(dirs.state, VnfRecord(digest=digest))

    def start(self, deployment: Deployment) -> None:
        """Renders and (re)starts the set; the instantiate hooks run around its first start."""
        namespace = deployment.facts.namespace
        record = self.record(namespace) or VnfRecord()
        note_config(record, deployment)
        if not deployment.facts.wired:
            save(self.dirs(namespace).state, record)
            return
        rendering = render(deployment.config, deployment.facts)
        self._stop_all(namespace, record)
        write_files(self.dirs(namespace).root, rendering.files, self._paths(record))
        record.rendering, record.variables = rendering.to_json(), deployment.facts.variables()
        first = not record.instantiated
        if first:
            self._hook(namespace, rendering, "instantiate_start", required=True)
        self._start_all(namespace, rendering, record, died=set())
        if first:
            record.instantiated = True
            self._hook(namespace, rendering, "instantiate_end", required=True)
        save(self.dirs(namespace).state, record)

    def started_with(self, namespace: str) -> dict[str, str] | None:
        """The variables the running set was rendered with (None: not started)."""
        record = self.record(namespace)
        return None if record is None else record.variables

    def heal(self, deployment: Deployment) -> None:
        """Restarts the set (heal hooks around it); a program that had died counts a restart."""
        namespace = deployment.facts.namespace
        record = self.record(namespace)
        if record is None or record.rendering is None:
            self.start(deployment)
            return
        self._observe(namespace, record, Rendering.from_json(record.rendering))
        died = {n for n, p in record.programs.items() if not spawn.alive(p.pid, p.start_time)}
        rendering = render(deployment.config, deployment.facts)
        self._hook(namespace, rendering, "heal_start", required=False)
        self._stop_all(namespace, record)
        write_files(self.dirs(namespace).root, rendering.files, self._paths(record))
        record.rendering, record.variables = rendering.to_json(), deployment.facts.variables()
        self._start_all(namespace, rendering, record, died=died)
        self._hook(namespace, rendering, "heal_end", required=False)
        note_config(record, deployment)
        save(self.dirs(namespace).state, record)

    def reload(self, deployment: Deployment) -> None:
        """Applies a new configuration by the package's reload mode; ReloadFailed (with the
        previous configuration back and applied) when it does not take."""
        namespace = deployment.facts.namespace
        record = self.record(namespace)
        if record is None or record.rendering is None or not deployment.facts.wired:
            self.start(deployment)
            return
        if record.refused_digest == deployment.digest:
            raise ReloadFailed(record.reload_error or "this configuration failed to reload")
        same_facts = record.variables == deployment.facts.variables()
        if record.digest == deployment.digest and same_facts:
            return  # running it already (its ruleset was what had to be mended)
        if record.settled_digest == deployment.settled_digest and same_facts:
            self.heal(deployment)  # only the heal count moved: the central asked for a heal
            return
        old = Rendering.from_json(record.rendering)
        new = render(deployment.config, deployment.facts)
        dirs = self.dirs(namespace)
        self._hook(namespace, new, "modify_information_start", required=True)
        before = write_files(dirs.root, new.files, self._paths(record))
        why = self._apply(namespace, new, record)
        if why is None:
            if new.reload != "script":
                self._hook(namespace, new, "modify_information_end", required=False)
            note_config(record, deployment)
            record.rendering = new.to_json()
            record.variables = deployment.facts.variables()
            record.reload_error = record.refused_digest = None
            save(dirs.state, record)
            return
        restore(dirs.root, before)
        again = self._apply(namespace, replace(old, reload=new.reload), record)
        message = f"reload by {new.reload} failed: {why}; the previous configuration is back"
        if again is not None:
            message += f" (but applying it again failed too: {again})"
        record.reload_error, record.refused_digest = message, deployment.digest
        save(dirs.state, record)
        raise ReloadFailed(message)

    def remove(self, namespace: str) -> bool:
        """Terminate hooks, the programs (by pid), their cgroups and every file; False when
        nothing was there."""
        dirs = self.dirs(namespace)
        record = self.record(namespace)
        if record is None and not dirs.base.exists():
            return False
        if record is not None:
            rendering = Rendering.from_json(record.rendering) if record.rendering else None
            ran = rendering is not None and namespace_inode(namespace) is not None
            if ran and rendering is not None:
                self._hook(namespace, rendering, "terminate_start", required=False)
            self._stop_all(namespace, record)
            if ran and rendering is not None:
                self._hook(namespace, rendering, "terminate_end", required=False)
        self.cgroups.remove(namespace)
        shutil.rmtree(dirs.base, ignore_errors=True)
        with contextlib.suppress(OSError):  # the last one gone: no empty directory left
            self.base.rmdir()
        self._probed = {k: v for k, v in self._probed.items() if k[0] != namespace}
        self._ready_at = {k: v for k, v in self._ready_at.items() if k[0] != namespace}
        return True

    # -- observing ----------------------------------------------------------------------------

    def status(self, namespace: str) -> SoftwareStatus | None:
        record = self.record(namespace)
        if record is None:
            return None
        notes = tuple(n for n in [self._limits_note(record)] if n)
        if record.rendering is None:
            return SoftwareStatus("starting", WAITING, reload_error=record.reload_error,
                                  notes=notes)  # fmt: skip
        rendering = Rendering.from_json(record.rendering)
        judged = self._observe(namespace, record, rendering)
        programs: dict[str, dict[str, Any]] = {}
        for program in rendering.programs:
            kept = record.programs.get(program.name, ProgramRecord())
            verdict = judged[program.name]
            programs[program.name] = {
                "state": verdict.state, "reason": verdict.reason,
                "pid": kept.pid if spawn.alive(kept.pid, kept.start_time) else None,
                "restarts": kept.restarts, "last_exit": kept.last_exit,
                "limits": self.cgroups.limits(namespace, program.name),
            }  # fmt: skip
        state = health.worst([v.state for v in judged.values()])
        reasons = [f"{n}: {v.reason}" for n, v in judged.items() if v.state == state and v.reason]
        return SoftwareStatus(
            state, "; ".join(reasons), any(v.restart_due for v in judged.values()), programs,
            record.reload_error, notes,
        )  # fmt: skip

    def _observe(
        self, namespace: str, record: VnfRecord, rendering: Rendering
    ) -> dict[str, health.Judgement]:
        """Judges each program, noting in the record those found dead since the last look."""
        now, changed, judged = self.clock(), False, {}
        for program in rendering.programs:
            kept = record.programs.setdefault(program.name, ProgramRecord())
            code = self.spawner.reap(kept.pid) if self.spawner and kept.pid else None
            alive = spawn.alive(kept.pid, kept.start_time)
            if not alive and kept.exited_at is None:
                kept.exited_at, kept.last_exit = now, code
                kept.failures = health.failures_after(kept.failures, now - kept.started_at)
                changed = True
            ready = self._ready(namespace, program, kept, rendering, now) if alive else None
            key = (namespace, program.name)
            if ready:
                self._ready_at[key] = now
            judged[program.name] = health.judge(
                program, alive=alive, ready=ready, started_at=kept.started_at,
                exited_at=kept.exited_at, exit_code=kept.last_exit, failures=kept.failures,
                now=now, ready_seen_at=self._ready_at.get(key),
            )  # fmt: skip
        if changed:
            save(self.dirs(namespace).state, record)
        return judged

    def _ready(
        self,
        namespace: str,
        program: ProgramRun,
        kept: ProgramRecord,
        rendering: Rendering,
        now: float,
    ) -> bool | None:
        probe = program.ready
        if probe is None or kept.pid is None:
            return None
        key = (namespace, program.name)
        last = self._probed.get(key)
        if last is not None and last[1] and now - last[0] < probe.interval_s:
            return True
        if probe.kind == "command":
            ok = self._confined_run(namespace, rendering, probe.argv, probe.timeout_s) == 0
        else:
            assert probe.port is not None
            ok = spawn.listening(kept.pid, probe.kind, probe.port)
        self._probed[key] = (now, ok)
        return ok

    def _limits_note(self, record: VnfRecord) -> str | None:
        limited = record.rendering is not None and any(
            p["cpu_millis"] is not None or p["memory_mib"] is not None
            for p in record.rendering["programs"]
        )
        missing = self.cgroups.missing() if limited else None
        return f"CPU and memory limits not enforced: {missing}" if missing else None

    # -- doing --------------------------------------------------------------------------------

    def _start_all(
        self, namespace: str, rendering: Rendering, record: VnfRecord, *, died: set[str]
    ) -> None:
        spawner = self._spawner()
        dirs = self.dirs(namespace)
        now = self.clock()
        for program in rendering.programs:
            kept = record.programs.get(program.name, ProgramRecord())
            procs = self.cgroups.make(namespace, program.name, program.cpu_millis,
                                      program.memory_mib)  # fmt: skip
            argv = [*self._confinement(namespace, rendering, program.capabilities),
                    *program.argv]  # fmt: skip
            pid = spawner.spawn(namespace, argv, rendering.env, dirs.log / f"{program.name}.log",
                                procs)  # fmt: skip
            restarts = kept.restarts + (1 if program.name in died else 0)
            failures = kept.failures if program.name in died else 0
            record.programs[program.name] = ProgramRecord(pid, proc_start_time(pid), now,
                                                          restarts, failures)  # fmt: skip
            self._probed.pop((namespace, program.name), None)
            self._ready_at.pop((namespace, program.name), None)
            if program is not rendering.programs[-1]:
                self._await_ready(namespace, rendering, program, record.programs[program.name])
        first = next(iter(record.programs.values()), None)
        if self.listener is not None and first is not None and first.pid is not None:
            self.listener.process_started(namespace, first.pid)

    def _await_ready(
        self, namespace: str, rendering: Rendering, program: ProgramRun, kept: ProgramRecord
    ) -> None:
        """Waits (its grace at most) until a program with a probe is ready or dead, so the next
        one may rely on it (FRR's bgpd on zebra's socket); the health judging says the rest."""
        if program.ready is None:
            return
        deadline = time.monotonic() + program.ready.grace_s
        while time.monotonic() < deadline and spawn.alive(kept.pid, kept.start_time):
            if self._ready(namespace, program, kept, rendering, self.clock()):
                return
            self._probed.pop((namespace, program.name), None)
            time.sleep(ORDER_POLL_S)

    def _stop_all(self, namespace: str, record: VnfRecord) -> None:
        if self.listener is not None:
            self.listener.process_stopping(namespace)
        for kept in record.programs.values():
            if kept.pid is not None:
                spawn.stop(kept.pid, kept.start_time, self.spawner)
                kept.pid = kept.start_time = None

    def _apply(self, namespace: str, rendering: Rendering, record: VnfRecord) -> str | None:
        """Applies the files on disk by `rendering.reload`; why it did not take, or None."""
        if rendering.reload == "restart":
            self._stop_all(namespace, record)
            self._start_all(namespace, rendering, record, died=set())
        elif rendering.reload == "signal":
            signum = signal.Signals[f"SIG{rendering.reload_signal}"]
            for name, kept in record.programs.items():
                if kept.pid is None or not spawn.send(kept.pid, signum):
                    return f"program {name} is not running to be sent SIG{rendering.reload_signal}"
        else:
            why = self._hook(namespace, rendering, "modify_information_end", required=False)
            if why is not None:
                return why
        return self._settled(namespace, rendering, record)

    def _settled(self, namespace: str, rendering: Rendering, record: VnfRecord) -> str | None:
        """Waits until every program is alive and ready (its grace at most)."""
        grace = max([p.ready.grace_s for p in rendering.programs if p.ready] or [0])
        deadline = time.monotonic() + max(grace, SETTLE_S)
        settle_until = time.monotonic() + SETTLE_S
        while True:
            why = None
            for program in rendering.programs:
                kept = record.programs.get(program.name, ProgramRecord())
                if not spawn.alive(kept.pid, kept.start_time):
                    why = f"program {program.name} died"
                    break
                self._probed.pop((namespace, program.name), None)
                if self._ready(namespace, program, kept, rendering, self.clock()) is False:
                    grace_s = program.ready.grace_s if program.ready else 0
                    why = f"program {program.name} not ready within {grace_s} s"
            now = time.monotonic()
            if why is None and now >= settle_until:
                return None
            if now >= deadline or (why is not None and "died" in why):
                return why
            time.sleep(0.1)

    def _hook(
        self, namespace: str, rendering: Rendering, operation: str, *, required: bool
    ) -> str | None:
        """Runs the package's hook for `operation` (if any) in the confinement; why it failed
        (or raises DataPlaneError when `required`)."""
        hook = rendering.hook(operation)
        if hook is None:
            return None
        code = self._confined_run(namespace, rendering, hook.argv, hook.timeout_s)
        if code == 0:
            return None
        tail = self._log_tail(namespace, "hooks.log")
        why = (f"hook {operation} timed out after {hook.timeout_s} s" if code is None
               else f"hook {operation} exited with {code}")  # fmt: skip
        why += f": {tail}" if tail else ""
        if required:
            raise DataPlaneError(why, code="hook-failed")
        log.warning("%s: %s", namespace, why)
        return why

    def _confined_run(
        self, namespace: str, rendering: Rendering, argv: tuple[str, ...], timeout_s: float
    ) -> int | None:
        full = [*self._confinement(namespace, rendering, rendering.capabilities()), *argv]
        return self._spawner().run(namespace, full, rendering.env,
                                   self.dirs(namespace).log / "hooks.log", timeout_s)  # fmt: skip

    def _confinement(
        self, namespace: str, rendering: Rendering, capabilities: tuple[str, ...]
    ) -> list[str]:
        return confinement(self.dirs(namespace), rendering.own_dirs(), capabilities, self.host)

    def _spawner(self) -> spawn.Spawner:
        if self.spawner is None:
            raise DataPlaneUnavailable("this supervisor has no namespace worker to start with")
        return self.spawner

    def _paths(self, record: VnfRecord) -> list[str]:
        return [str(p) for p, _ in (record.rendering or {}).get("files", [])]

    def _log_tail(self, namespace: str, name: str) -> str:
        with contextlib.suppress(OSError):
            lines = (self.dirs(namespace).log / name).read_text(errors="replace").splitlines()
            return " / ".join(line.strip() for line in lines[-3:])[:300]
        return ""

    def running(self) -> dict[str, int]:
        found = {}
        for state in self.base.glob("*/state.json"):
            record = load(state)
            first = next(iter(record.programs.values()), None) if record else None
            if first is not None and spawn.alive(first.pid, first.start_time):
                assert first.pid is not None
                found[state.parent.name] = first.pid
        return found

    def close(self) -> None:
        if self.spawner is not None:
            self.spawner.close()
