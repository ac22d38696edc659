"""Robot pre-run modifier: gives chosen suites and tests their own values of suite variables.

`robot --prerunmodifier conformance/overrides.py:PLAN.json` reads the plan's overrides
({"suites": {stem: {var: value}}, "tests": {stem: {test name: {var: value}}}}) and opens each
named test with `Set Test Variable` calls, so that, say, the test that expects 409 acts on the
resource in the conflicting state while its neighbour acts on another. The calls show in the
log as the test's first steps. An override naming no test is reported as a warning. Every test
also gets the plan's time limit (the suites wait up to 2 minutes for some notifications).
"""

from __future__ import annotations

import json
from pathlib import Path

from robot.api import SuiteVisitor, TestSuite, logger


class Overrides(SuiteVisitor):  # type: ignore[misc] # robot.api re-exports untyped classes
    def __init__(self, plan: str) -> None:
        document = json.loads(Path(plan).read_text())
        self.suites: dict[str, dict[str, str]] = document.get("suites", {})
        self.tests: dict[str, dict[str, dict[str, str]]] = document.get("tests", {})
        self.test_timeout: str | None = document.get("test_timeout")
        self.unused = {(s, t) for s, tests in self.tests.items() for t in tests}
        self.unused |= {(s, "") for s in self.suites}

    def start_suite(self, suite: TestSuite) -> None:
        source = Path(str(suite.source or ""))
        if not source.is_file():
            return
        stem = source.stem
        for test in suite.tests:
            if self.test_timeout and not test.timeout:
                test.timeout = self.test_timeout
            values = self.suites.get(stem, {}) | self.tests.get(stem, {}).get(test.name, {})
            if stem in self.suites:
                self.unused.discard((stem, ""))
            if test.name in self.tests.get(stem, {}):
                self.unused.discard((stem, test.name))
            if values:
                steps = list(test.body)
                test.body.clear()
                for name, value in sorted(values.items()):
                    test.body.create_keyword(
                        "BuiltIn.Set Test Variable", (f"${{{name}}}", _escape(value))
                    )
                test.body.extend(steps)

    def end_suite(self, suite: TestSuite) -> None:
        if suite.parent is None:
            for stem, test in sorted(self.unused):
                logger.warn(f"conformance override for {stem} {test!r} matched no test".strip())


def _escape(value: str) -> str:
    """The value as robot reads it literally (no variables, no escapes)."""
    escaped = value.replace("\\", "\\\\")
    for start in ("${", "@{", "&{", "%{"):
        escaped = escaped.replace(start, "\\" + start)
    return escaped
