"""The site controller's errors, sorted by what should happen next; foreign errors become these.

SiteError                  code: a stable string for logs and reports
 +-- PermanentError        retrying the same thing will not help
 |    +-- NotEnrolled      the journal holds no identity: enroll first
 |    +-- EnrollmentRefused  the central refused the token or the CSR, or failed the pin
 |    +-- ChannelRefused   the central answered 4xx (not 408/429): revoked, malformed, ...
 +-- TemporaryError        retry later; `retry_after` seconds when the central said so
      +-- ChannelUnavailable  no connection, TLS failure, timeout, 5xx, 408, 429
"""

from __future__ import annotations


class SiteError(Exception):
    """Base of the site controller's errors."""

    code = "site-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class PermanentError(SiteError):
    """Retrying will not help until something else changes."""

    code = "permanent"


class NotEnrolled(PermanentError):
    code = "not-enrolled"


class EnrollmentRefused(PermanentError):
    code = "enrollment-refused"


class ChannelRefused(PermanentError):
    """The central refused a call; `status` is the HTTP status."""

    code = "channel-refused"

    def __init__(self, message: str, *, status: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


class TemporaryError(SiteError):
    """Retry after `retry_after` seconds when given, else after the usual backoff."""

    code = "temporary"

    def __init__(
        self, message: str, *, retry_after: float | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class ChannelUnavailable(TemporaryError):
    code = "channel-unavailable"
