"""The state file of a third-party VNF (`<base>/<namespace>/state.json`): what was rendered, the
programs' pids (with their start times: pids are reused), restarts and exits. It is how a
restarted controller adopts the programs instead of starting second copies.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ProgramRecord:
    pid: int | None = None
    start_time: int | None = None  # /proc/<pid>/stat's, in clock ticks
    started_at: float = 0.0  # wall clock
    restarts: int = 0
    failures: int = 0  # in a row (back-off)
    exited_at: float | None = None
    last_exit: int | None = None


@dataclass
class VnfRecord:
    digest: str = ""
    settled_digest: str = ""  # the digest without the heal count
    heal: int = 0  # the config's heal count the set was last (re)started for
    instantiated: bool = False
    rendering: dict[str, Any] | None = None  # render.Rendering.to_json(); None: not rendered
    variables: dict[str, str] | None = None  # what it was rendered with
    programs: dict[str, ProgramRecord] = field(default_factory=dict)
    reload_error: str | None = None
    refused_digest: str | None = None  # a config whose reload failed: not tried again

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> VnfRecord:
        programs = {k: ProgramRecord(**v) for k, v in value.pop("programs", {}).items()}
        return cls(**value, programs=programs)


def load(path: Path) -> VnfRecord | None:
    try:
        return VnfRecord.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def save(path: Path, record: VnfRecord) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record.to_json()))
    temporary.replace(path)
