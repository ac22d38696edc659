"""Problems with a document, each tagged with the path of the value it is about: what every
reader of the desired-state contract reports, and what the central, the loader and the site
turn into their own errors (a 422's problems, a positioned descriptor problem, a refused
revision)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

Segment = int | str
Path = tuple[Segment, ...]
Json = Any  # a plain JSON value: dict, list, str, int, float, bool or None
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def render_path(path: Path) -> str:
    """`services[0].vnfs[1].config.rules[2].port`; a key that is not a plain name is quoted
    (`env["A B"]`); the empty path is the document itself."""
    text = "".join(
        f"[{s}]" if isinstance(s, int) else f".{s}" if _PLAIN_KEY.fullmatch(s) else f"[{s!r}]"
        for s in path
    ).lstrip(".")
    return text or "(document)"


@dataclass(frozen=True)
class Problem:
    """What is wrong with a value, and where: `path` from the document (or fragment) root.

    `code` is stable: `missing`, `type` (not the JSON type wanted), `value` (the right type, a
    refused value), `unknown` (a key the contract does not have), `limit` (too many, too long).
    """

    path: Path
    message: str
    code: str = "value"

    @property
    def where(self) -> str:
        return render_path(self.path)

    def under(self, prefix: Path) -> Problem:
        return Problem((*prefix, *self.path), self.message, self.code)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class DocumentError(ValueError):
    """A document (or a fragment of one) the contract refuses; `problems` lists every problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def under(self, prefix: Path) -> DocumentError:
        return DocumentError(p.under(prefix) for p in self.problems)


class Problems:
    """Collects problems while a document is read."""

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, path: Path, message: str, code: str = "value") -> Invalid:
        self.found.append(Problem(path, message, code))
        return INVALID

    def __len__(self) -> int:
        return len(self.found)


class Invalid:
    """What a kind reads from a value it refused (after adding the problem)."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = Invalid()


def shown(value: object) -> str:
    """A value as a problem quotes it: JSON-like and short."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57]) + "..."
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return repr(value)
