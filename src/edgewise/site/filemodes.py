"""Who may read the site's state (key, certificates, journal): its owner alone. Directories are
0700 and files 0600 from their creation, and what an older controller left is mended at start."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)
PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
SHARED = 0o077  # what group and others may do: nothing


def private_directory(path: Path) -> None:
    """Creates `path` (with its parents) 0700 if it is missing, and makes it private if not."""
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    make_private(path)


def private_file(path: Path) -> None:
    """Creates `path` empty and 0600 if it is missing, and makes it private if not."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    make_private(path)


def make_private(*paths: Path) -> None:
    """Takes from each existing path what group and others may do, saying so; leaves symbolic
    links (their targets are not the site's to change) and missing paths alone."""
    for path in paths:
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(mode) or not stat.S_IMODE(mode) & SHARED:
            continue
        private = stat.S_IMODE(mode) & ~SHARED
        path.chmod(private)
        log.warning("%s was mode %o; made private (%o)", path, stat.S_IMODE(mode), private)
