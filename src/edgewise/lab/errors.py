"""What stops a lab run (the demo, the simulator), as one line for whoever started it: the CLI
prints it as its one-line error, a benchmark as its own.

    LabError            the run cannot go on; nothing is retried (exit status 1 in the CLI)
     └── PhaseTimeout   a simulator phase did not complete within its bound: `done` of `total`
"""

from __future__ import annotations


class LabError(Exception):
    """A failure to report in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PhaseTimeout(LabError):
    """A phase did not complete within its bound: `done` of `total` got there."""

    def __init__(self, message: str, done: int, total: int) -> None:
        super().__init__(message)
        self.done = done
        self.total = total
