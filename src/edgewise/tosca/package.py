"""Package sources: a CSAR directory, a CSAR zip, or one uploaded file; all reads are checked.

Paths are package-relative POSIX paths. Escapes (`..`, absolute paths, symlinks out),
oversized members and zip bombs raise SourceError, which the loader turns into Problems.
"""

from __future__ import annotations

import io
import posixpath
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Protocol

from edgewise.tosca.errors import SourceError
from edgewise.tosca.limits import Limits

META = "TOSCA-Metadata/TOSCA.meta"


class PackageSource(Protocol):
    """Where a descriptor's files come from."""

    def read(self, relpath: str) -> bytes: ...

    def exists(self, relpath: str) -> bool: ...

    def root_files(self) -> list[str]: ...


def normalise(relpath: str) -> str:
    """A safe package-relative path, or SourceError when it would leave the package."""
    if relpath.startswith(("/", "\\")) or (len(relpath) > 1 and relpath[1] == ":"):
        raise SourceError("package.unsafe-path", f"'{relpath}' is an absolute path")
    cleaned = posixpath.normpath(relpath.replace("\\", "/"))
    if cleaned == ".." or cleaned.startswith("../"):
        raise SourceError("package.unsafe-path", f"'{relpath}' points outside the package")
    return cleaned


class _Budget:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0
        self.count = 0

    def take(self, relpath: str, size: int) -> None:
        if size > self.limits.max_file_bytes:
            raise SourceError(
                "limit.size",
                f"'{relpath}' is {size} bytes; the limit per file is {self.limits.max_file_bytes}",
            )
        self.total += size
        self.count += 1
        if self.total > self.limits.max_package_bytes:
            raise SourceError(
                "limit.size",
                f"the package is over {self.limits.max_package_bytes} bytes",
            )
        if self.count > self.limits.max_files:
            raise SourceError("limit.files", f"more than {self.limits.max_files} files read")


class DirectorySource:
    """An unpacked CSAR (or any folder of templates)."""

    def __init__(self, root: Path, limits: Limits) -> None:
        self.root = root.resolve()
        self.budget = _Budget(limits)

    def _path(self, relpath: str) -> Path:
        path = (self.root / normalise(relpath)).resolve()
        if not path.is_relative_to(self.root):
            raise SourceError("package.unsafe-path", f"'{relpath}' leads outside the package")
        return path

    def exists(self, relpath: str) -> bool:
        try:
            return self._path(relpath).is_file()
        except (SourceError, OSError):
            return False

    def read(self, relpath: str) -> bytes:
        path = self._path(relpath)
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise SourceError("import.missing", f"'{relpath}' is not a regular file")
            self.budget.take(relpath, info.st_size)
            with path.open("rb") as handle:
                data = handle.read(self.budget.limits.max_file_bytes + 1)
        except FileNotFoundError as exc:
            raise SourceError("import.missing", f"'{relpath}' does not exist") from exc
        except OSError as exc:
            raise SourceError("package.unreadable", f"'{relpath}' cannot be read: {exc}") from exc
        if len(data) > info.st_size:
            self.budget.take(relpath, len(data))
        return data

    def root_files(self) -> list[str]:
        try:
            return sorted(p.name for p in self.root.iterdir() if p.is_file())[:1000]
        except OSError:
            return []


class ZipSource:
    """A CSAR zip, checked as a whole before any member is read."""

    def __init__(self, data: bytes, limits: Limits) -> None:
        self.budget = _Budget(limits)
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            ValueError,
            EOFError,
            NotImplementedError,
        ) as exc:
            raise SourceError("package.zip", f"the zip archive cannot be read: {exc}") from exc
        if len(infos) > limits.max_files:
            raise SourceError(
                "limit.files", f"the archive holds {len(infos)} entries; limit {limits.max_files}"
            )
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_package_bytes:
            raise SourceError(
                "limit.size",
                f"the archive unpacks to {declared} bytes; limit {limits.max_package_bytes}",
            )
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.unsafe: list[str] = []
        for info in infos:
            if info.is_dir():
                continue
            mode = info.external_attr >> 16
            try:
                name = normalise(info.filename)
            except SourceError:
                self.unsafe.append(info.filename)
                continue
            if stat.S_ISLNK(mode):
                self.unsafe.append(info.filename)
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 1024 * 1024 and ratio > limits.max_compression_ratio:
                raise SourceError(
                    "limit.ratio",
                    f"'{info.filename}' expands {ratio:.0f} times; limit "
                    f"{limits.max_compression_ratio} (a zip bomb?)",
                )
            self.members[name] = info
        self.prefix = ""
        if META not in self.members:
            tops = {name.split("/", 1)[0] for name in self.members if "/" in name}
            if len(tops) == 1 and f"{next(iter(tops))}/{META}" in self.members:
                self.prefix = next(iter(tops)) + "/"

    def exists(self, relpath: str) -> bool:
        try:
            return self.prefix + normalise(relpath) in self.members
        except SourceError:
            return False

    def read(self, relpath: str) -> bytes:
        name = self.prefix + normalise(relpath)
        info = self.members.get(name)
        if info is None:
            raise SourceError("import.missing", f"'{relpath}' is not in the package")
        self.budget.take(relpath, info.file_size)
        limit = self.budget.limits.max_file_bytes
        try:
            with self.zip.open(info) as handle:
                data = handle.read(limit + 1)
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            ValueError,
            EOFError,
            NotImplementedError,
            RuntimeError,
        ) as exc:
            raise SourceError("package.zip", f"'{relpath}' cannot be unpacked: {exc}") from exc
        if len(data) > limit:
            raise SourceError("limit.size", f"'{relpath}' unpacks to more than {limit} bytes")
        return data

    def root_files(self) -> list[str]:
        return sorted(
            name[len(self.prefix) :]
            for name in self.members
            if name.startswith(self.prefix) and "/" not in name[len(self.prefix) :]
        )


class SingleFileSource:
    """One uploaded service template: nothing else can be read."""

    def __init__(self, name: str, data: bytes, limits: Limits) -> None:
        self.name = name
        self.data = data
        if len(data) > limits.max_file_bytes:
            raise SourceError(
                "limit.size", f"the upload is {len(data)} bytes; limit {limits.max_file_bytes}"
            )

    def exists(self, relpath: str) -> bool:
        return relpath == self.name

    def read(self, relpath: str) -> bytes:
        if relpath != self.name:
            raise SourceError(
                "import.unresolvable",
                f"'{relpath}' cannot be read: a single uploaded template has no other files; "
                "upload a CSAR package (zip) that contains it",
            )
        return self.data

    def root_files(self) -> list[str]:
        return [self.name]


def parse_meta(text: str) -> dict[str, str]:
    """The first block of TOSCA.meta (keys lower-cased); later `Name:` blocks describe files."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    return fields
