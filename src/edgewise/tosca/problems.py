"""Positioned problems: every stage of loading reports into a ProblemLog; nothing raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a descriptor, with where it is and what is expected."""

    file: str
    line: int
    column: int
    path: str
    message: str
    code: str
    severity: Severity = "error"

    def __str__(self) -> str:
        """file:line:column: path: message, leaving out a zero position and an empty path."""
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        parts = [where, self.path] if self.path else [where]
        prefix = "warning: " if self.severity == "warning" else ""
        return ": ".join([*parts, prefix + self.message])


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based position inside one file (0 when not applicable)."""

    file: str
    line: int = 0
    column: int = 0


NOWHERE = Mark("")


@dataclass
class ProblemLog:
    """Collects problems in the order they are found; a loader passes one down every stage."""

    problems: list[Problem] = field(default_factory=list)

    def add(
        self,
        mark: Mark,
        path: str,
        code: str,
        message: str,
        severity: Severity = "error",
    ) -> None:
        self.problems.append(
            Problem(mark.file, mark.line, mark.column, path, message, code, severity)
        )

    def extend(self, problems: tuple[Problem, ...] | list[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)
