"""The classifier's status file: its counters as one JSON document, replaced atomically every
few seconds, for the site controller to read (docs/dpi.md lists the fields)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_status(path: Path, status: dict[str, Any]) -> None:
    """Writes `status` to `path` whole: readers see the old or the new document, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as file:
            json.dump(status, file, sort_keys=True, indent=1)
            file.write("\n")
        Path(name).chmod(0o644)
        Path(name).replace(path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def read_status(path: Path) -> dict[str, Any] | None:
    """The last status written, or None when there is none yet."""
    try:
        found = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return found if isinstance(found, dict) else None
