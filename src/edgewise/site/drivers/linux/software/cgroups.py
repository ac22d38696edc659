"""CPU and memory limits of a VNF's programs with cgroups v1 (the controllers this host mounts
under /sys/fs/cgroup/cpu and /sys/fs/cgroup/memory): one group per program under
`edgewise/<namespace>/<program>`, a CFS quota of `cpu_millis` per 100 ms period and a memory
limit. A host without the v1 controllers runs the programs unlimited, and says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from edgewise.site.drivers.linux.errors import DataPlaneError

CGROUP_ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000
TOP = "edgewise"


@dataclass(frozen=True)
class CgroupsV1:
    root: Path = CGROUP_ROOT

    def missing(self) -> str | None:
        """Why limits cannot be set here, or None."""
        for controller in ("cpu", "memory"):
            if not (self.root / controller / "cgroup.procs").exists():
                return f"no cgroup v1 {controller} controller at {self.root / controller}"
        return None

    def group(self, controller: str, namespace: str, program: str) -> Path:
        return self.root / controller / TOP / namespace / program

    def make(
        self, namespace: str, program: str, cpu_millis: int | None, memory_mib: int | None
    ) -> list[Path]:
        """The groups' `cgroup.procs` files a new program is put in (none without limits)."""
        if (cpu_millis is None and memory_mib is None) or self.missing() is not None:
            return []
        procs = []
        try:
            for controller in ("cpu", "memory"):
                group = self.group(controller, namespace, program)
                group.mkdir(parents=True, exist_ok=True)
                procs.append(group / "cgroup.procs")
            cpu = self.group("cpu", namespace, program)
            (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            quota = -1 if cpu_millis is None else cpu_millis * PERIOD_US // 1000
            (cpu / "cpu.cfs_quota_us").write_text(str(quota))
            memory = self.group("memory", namespace, program)
            limit = -1 if memory_mib is None else memory_mib * 1024 * 1024
            (memory / "memory.limit_in_bytes").write_text(str(limit))
        except OSError as exc:
            raise DataPlaneError(f"cgroup of {namespace}/{program}: {exc}") from exc
        return procs

    def limits(self, namespace: str, program: str) -> dict[str, int] | None:
        """The quota (µs per period) and memory limit (bytes) set; None without a group."""
        cpu = self.group("cpu", namespace, program)
        memory = self.group("memory", namespace, program)
        try:
            return {
                "cpu_quota_us": int((cpu / "cpu.cfs_quota_us").read_text()),
                "cpu_period_us": int((cpu / "cpu.cfs_period_us").read_text()),
                "memory_limit_bytes": int((memory / "memory.limit_in_bytes").read_text()),
            }
        except (OSError, ValueError):
            return None

    def pids(self, namespace: str) -> set[int]:
        """Every process in the VNF's groups (any program)."""
        found: set[int] = set()
        for controller in ("cpu", "memory"):
            for procs in (self.root / controller / TOP / namespace).glob("*/cgroup.procs"):
                with contextlib.suppress(OSError, ValueError):
                    found |= {int(line) for line in procs.read_text().split()}
        return found

    def remove(self, namespace: str, wait_s: float = 1.0) -> None:
        """Kills what is left in the VNF's groups, then removes them."""
        for pid in self.pids(namespace):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + wait_s
        for controller in ("cpu", "memory"):
            top = self.root / controller / TOP / namespace
            for group in [*top.glob("*"), top]:
                while group.is_dir():
                    try:
                        group.rmdir()
                    except OSError:
                        if time.monotonic() > deadline:
                            break
                        time.sleep(0.01)
