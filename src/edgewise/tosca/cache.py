"""TypeCache: parsed files by content hash, over the process's compiled built-ins — a memo.

Type files recur across packages and are most of their lines; a known file (same sha256 and
path) is composed and parsed once. The process root keeps one TypeCache and passes it to every
load (the central's runtime, a CLI command, a test); it reads the built-ins on first use.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from edgewise.tosca.builtins import BuiltinTypes, read_builtins
from edgewise.tosca.problems import Problem
from edgewise.tosca.typedefs import TemplateFile


@dataclass(frozen=True)
class ParsedFile:
    """A file's parse result and the problems found in it alone (None: not a template)."""

    template: TemplateFile | None
    problems: tuple[Problem, ...]


class TypeCache:
    """A bounded LRU of ParsedFile by (sha256, path); builtins() gives the shared built-ins."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._files: OrderedDict[tuple[str, str], ParsedFile] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self._builtins: BuiltinTypes | None = None

    def builtins(self) -> BuiltinTypes:
        if self._builtins is None:
            self._builtins = read_builtins()
        return self._builtins

    def get(self, digest: str, path: str) -> ParsedFile | None:
        found = self._files.get((digest, path))
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._files.move_to_end((digest, path))
        return found

    def put(self, digest: str, path: str, parsed: ParsedFile) -> None:
        self._files[digest, path] = parsed
        self._files.move_to_end((digest, path))
        while len(self._files) > self.max_entries:
            self._files.popitem(last=False)
