"""Internal exceptions of the loader; load_path/load_bytes turn every one into a Problem.

LoaderError
 +-- SourceError      a file of the package cannot be read (missing, unsafe, too large)
"""

from __future__ import annotations


class LoaderError(Exception):
    """Base of the loader's own exceptions; carries a stable problem code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SourceError(LoaderError):
    """A package member cannot be read: it never reaches the YAML layer."""
