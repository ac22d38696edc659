"""Writing a VNF's rendered files under its root (each atomically, with its mode) and putting
the previous ones back when a reload fails.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.software.render import RenderedFile

Snapshot = dict[str, tuple[bytes, int] | None]  # path -> (content, mode), None: absent


def write_files(root: Path, files: Sequence[RenderedFile], old: Iterable[str] = ()) -> Snapshot:
    """Writes `files` (and removes the `old` paths no longer among them); returns what was there
    before, for `restore`."""
    wanted = {f.path for f in files}
    before = snapshot(root, [*wanted, *old])
    try:
        for file in files:
            write_atomically(root / file.path, file.content, file.mode)
        for path in old:
            if path not in wanted:
                (root / path).unlink(missing_ok=True)
    except OSError as exc:
        raise DataPlaneError(f"writing the VNF's files under {root}: {exc}") from exc
    return before


def snapshot(root: Path, paths: Iterable[str]) -> Snapshot:
    found: Snapshot = {}
    for path in paths:
        target = root / path
        try:
            found[path] = (target.read_bytes(), target.stat().st_mode & 0o7777)
        except FileNotFoundError:
            found[path] = None
        except OSError as exc:
            raise DataPlaneError(f"reading {target}: {exc}") from exc
    return found


def restore(root: Path, before: Snapshot) -> None:
    try:
        for path, kept in before.items():
            if kept is None:
                (root / path).unlink(missing_ok=True)
            else:
                write_atomically(root / path, kept[0], kept[1])
    except OSError as exc:
        raise DataPlaneError(f"restoring the VNF's files under {root}: {exc}") from exc


def write_atomically(target: Path, content: bytes, mode: int) -> None:
    made = [p for p in reversed(target.parents) if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    for directory in made:  # 0755 whatever the umask: a program's own user reads its files
        directory.chmod(0o755)
    temporary = target.with_name(f".{target.name}.new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, mode)  # noqa: PTH101 - the umask must not narrow it
        temporary.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
