"""The DPI classifier of the WAN namespace (worker thread): run while the steering section has
layer-7 classes, supervised like a process VNF (host.processes, one program for the WAN
namespace), restarted with back-off when it dies, stopped when no layer-7 class is left; its
status file read for the WAN's counters and notes (docs/sdwan-site.md, "Layer 7").
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from edgewise.model.functions import ProcessConfig
from edgewise.site.drivers.linux.dpi import Options, read_status
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.l7classes import Layer7

RESTART_BASE_S: Final = 1.0  # the first restart waits this long, then twice as long ... up to
RESTART_CAP_S: Final = 60.0
STABLE_S: Final = 60.0  # a classifier that ran this long before it died starts the back-off anew
REFUSED, UNAVAILABLE = 2, 3  # exit codes that another start would not mend (docs/dpi.md)
LOG_TAIL: Final = 4096


@dataclass(frozen=True)
class ClassifierReport:
    """What observe tells of the classifier: `restart` when it is dead and its back-off is
    over (the reconciler then applies the steering again, which starts it), notes, counters."""

    restart: bool = False
    notes: tuple[str, ...] = ()
    counters: dict[str, Any] = field(default_factory=dict)


class WanClassifier:
    def __init__(
        self, host: Host, wan: str, runtime_dir: Path, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._host = host
        self._wan = wan
        self.clock = clock
        self.status_file = runtime_dir / f"{wan}.dpi-status"
        self.log_file = runtime_dir / f"{wan}.log"  # the supervisor's output file
        self.options: Options | None = None
        self._started_at = 0.0
        self._died_at: float | None = None
        self._failures = 0

    def wanted(self, l7: Layer7) -> Options | None:
        """The classifier the section needs: the classes' custom applications, the cache on."""
        if not l7.wanted:
            return None
        return Options(status_file=self.status_file, custom=dict(l7.custom), cache=True,
                       learn_dns=bool(l7.custom))  # fmt: skip

    def ensure(self, l7: Layer7) -> None:
        """Starts, restarts or stops the classifier as `l7` needs (worker thread)."""
        options = self.wanted(l7)
        status = self._host.processes.status(self._wan)
        if options is None:
            if status is not None or self.options is not None:
                self._host.processes.stop(self._wan)
            self.options, self._died_at, self._failures = None, None, 0
            return
        if options == self.options and status is not None and status.running:
            return
        died = options == self.options and status is not None
        if options != self.options:
            self._died_at, self._failures = None, 0
        self.status_file.unlink(missing_ok=True)
        self._host.processes.start(self._wan, program(options), restart=died)
        self.options = options
        self._started_at = self.clock()
        self._died_at = None

    def report(self) -> ClassifierReport:
        """Whether it runs, and its counters (worker thread)."""
        if self.options is None:
            return ClassifierReport()
        status = self._host.processes.status(self._wan)
        now = self.clock()
        counters: dict[str, Any] = {}
        found = read_status(self.status_file)
        if found is not None:
            counters.update({k: found.get(k) for k in COUNTERS if k in found})
        counters["running"] = bool(status and status.running)
        counters["pid"] = status.pid if status is not None else None
        if status is not None and status.running:
            return ClassifierReport(counters=counters)
        code = status.exit_code if status is not None else None
        counters["exit_code"] = code
        if code in (REFUSED, UNAVAILABLE):
            why = self.last_log_line() or f"exit status {code}"
            note = (f"layer-7 classes are not steered: the DPI classifier cannot run: {why}; "
                    "layer 3/4 classes are steered as before")  # fmt: skip
            return ClassifierReport(notes=(note,), counters=counters)
        if self._died_at is None:
            self._died_at = now
            ran = now - self._started_at
            self._failures = 1 if ran >= STABLE_S else self._failures + 1
        due = self._died_at + min(RESTART_CAP_S, RESTART_BASE_S * 2 ** (self._failures - 1))
        counters["restart_in_s"] = round(max(0.0, due - now), 1)
        how = "" if code is None else f" (exit status {code})"
        note = (f"the DPI classifier ended{how}: layer-7 classes wait for it; "
                f"restart {self._failures} in {max(0.0, due - now):.1f} s")  # fmt: skip
        return ClassifierReport(restart=now >= due, notes=(note,), counters=counters)

    def last_log_line(self) -> str | None:
        try:
            with self.log_file.open("rb") as file:
                file.seek(max(0, file.seek(0, os.SEEK_END) - LOG_TAIL))
                lines = file.read().decode(errors="replace").strip().splitlines()
        except OSError:
            return None
        return lines[-1].split(" dpi: ", 1)[-1] if lines else None


COUNTERS: Final = ("flows_classified", "flows_given_up", "packets", "flows_inspecting",
                   "queue_dropped", "cpu_seconds", "cache_learnt", "cache_errors",
                   "cache_last_error", "updated_at")  # fmt: skip


def program(options: Options) -> ProcessConfig:
    """The classifier as a supervised program, run by this Python (and its import path)."""
    argv = options.argv(sys.executable)
    env = tuple((k, os.environ[k]) for k in ("PYTHONPATH",) if k in os.environ)
    return ProcessConfig(command=argv[0], args=tuple(argv[1:]), env=env, restart="always")
