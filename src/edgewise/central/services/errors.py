"""What can go wrong in a use case, by what the caller should do next.

    ServiceError
      +-- NotFound         the object does not exist, or the caller may not see it
      +-- Forbidden        the caller sees it but may not do this
      +-- Unauthenticated  no valid credentials
      +-- TooManyAttempts  too many failed attempts from the caller's address: retry after
      +-- Conflict         the object's state does not allow this now
      +-- Stale            the caller's copy of the object is out of date: read it again
      +-- Invalid          the request itself is wrong; `problems` lists every reason
            +-- Unprocessable  well formed, but what it names does not work (a callback)

The API layer maps each to a ProblemDetails status; nothing here knows HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class InputProblem:
    """One thing wrong with a request: where (a field path) and why."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ServiceError(Exception):
    code = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ServiceError):
    code = "not-found"


class Forbidden(ServiceError):
    code = "forbidden"


class Unauthenticated(ServiceError):
    code = "unauthenticated"


class TooManyAttempts(ServiceError):
    code = "too-many-attempts"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Conflict(ServiceError):
    code = "conflict"


class Stale(ServiceError):
    code = "stale"


class Invalid(ServiceError):
    code = "invalid"

    def __init__(self, detail: str, problems: Sequence[InputProblem] = ()) -> None:
        super().__init__(detail)
        self.problems = tuple(problems)


class Unprocessable(Invalid):
    code = "unprocessable"
