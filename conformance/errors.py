"""The one error a conformance run reports instead of a result: its set-up failed."""

from __future__ import annotations


class SetupError(Exception):
    """The run could not be prepared (suite, libraries, central, resources); one line says why.

    Failing tests are results, never a SetupError.
    """
