"""CLI errors: each becomes one clear line on stderr and a non-zero exit status."""

from __future__ import annotations


class CliError(Exception):
    """A failure to report in one line; `exit_code` 1 for failures, 2 for usage."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
