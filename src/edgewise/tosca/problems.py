"""Positioned problems: every stage of loading reports into a ProblemLog; nothing raises.

A warning is a tolerated deviation (`deviations.py`); a strict log records it as an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    """Collects problems in the order they are found; a loader passes one down every stage.

    A strict log records every warning as an error (strict loading tolerates nothing).
    """

    problems: list[Problem] = field(default_factory=list)
    strict: bool = False

    def add(
        self,
        mark: Mark,
        path: str,
        code: str,
        message: str,
        severity: Severity = "error",
    ) -> None:
        if self.strict:
            severity = "error"
        self.problems.append(
            Problem(mark.file, mark.line, mark.column, path, message, code, severity)
        )

    def extend(self, problems: tuple[Problem, ...] | list[Problem]) -> None:
        if self.strict:
            problems = [replace(p, severity="error") for p in problems]
        self.problems.extend(problems)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)
