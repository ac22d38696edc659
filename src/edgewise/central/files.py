"""The central's state on disk is its own: directories 0700, files 0600 (the store holds callback
credentials, the data dir the admin token and the CA's keys). Tightened on every start."""

from __future__ import annotations

import os
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` made if missing, and readable by this user only (an older, looser one too)."""
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    path.chmod(DIRECTORY_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Writes `data` to `path`, readable by this user only (also when the file existed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)
        handle.write(data)


def private_file(path: Path) -> None:
    """`path` created empty if missing, readable by this user only. SQLite gives its -wal and
    -shm files the database file's mode, so making the database file private first is enough;
    those of an older, looser store are tightened here too."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if each.exists():
            each.chmod(FILE_MODE)
