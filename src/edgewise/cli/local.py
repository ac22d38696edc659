"""How the CLI finds a central started on the same machine: `edgewise server` records its API
port and data directory under $XDG_STATE_HOME/edgewise/centrals/ while it runs; the CLI, aimed
at that port on loopback, reads the admin token from that data directory. A record whose
process is gone is ignored, and swept by the next server that records itself."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def records() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "edgewise" / "centrals"


@contextlib.contextmanager
def recorded(port: int, data_dir: Path) -> Iterator[None]:
    """Records, while the block runs, that the central on `port` keeps its state in `data_dir`
    (a central that cannot write the record still runs; it says why in its log)."""
    path = records() / f"{port}.json"
    mine = {"dataDir": str(data_dir.resolve()), "pid": os.getpid()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob("*.json"):
            if _read(old) is None:
                old.unlink(missing_ok=True)
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(json.dumps(mine))
        scratch.replace(path)
    except OSError as exc:
        log.warning("cannot record this central for the CLI in %s: %s", path, exc)
        yield
        return
    try:
        yield
    finally:  # on a clean return; after SIGTERM the process is gone and readers skip it
        if _read(path) == mine:  # not replaced by a newer central
            path.unlink(missing_ok=True)


def data_dir_of(central_url: str) -> Path | None:
    """The data directory recorded by the central `central_url` names, if it is on this
    machine and recorded one."""
    try:
        url = urlsplit(central_url)
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        return None
    if url.hostname not in LOOPBACK:
        return None
    found = _read(records() / f"{port}.json")
    return Path(str(found["dataDir"])) if found is not None else None


def _read(path: Path) -> dict[str, object] | None:
    """The record at `path` if it is well formed and its process still runs."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or not isinstance(found.get("dataDir"), str):
        return None
    pid = found.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # another user's process: it runs
    return found
