"""Robot pre-run modifier: gives each suite and test its own resources' ids.

`robot --prerunmodifier conformance/overrides.py:PLAN.json` reads the plan's values
({"suites": {stem: {var: value}}, "tests": {stem: {test name: {var: value}}}}): a suite's go
into its own variable table (so its set-up sees them; they win over the suite's resource
files), a test's open it as `Set Test Variable` calls (shown in the log as its first steps), so
that, say, the test that expects 409 acts on its own resource in the conflicting state. A value
naming no suite or test is reported as a warning. Every test then starts afresh (`isolation.py`:
RESTinstance's client as the suite's set-up left it; the subscriptions its pre-condition names)
and gets the plan's time limit (the suites wait up to 2 minutes for some notifications).
"""

from __future__ import annotations

import json
from pathlib import Path

from robot.api import SuiteVisitor, TestSuite, logger

ISOLATION = "conformance.isolation.Isolation"
ISOLATION_ALIAS = "ConformanceIsolation"


class Overrides(SuiteVisitor):  # type: ignore[misc] # robot.api re-exports untyped classes
    def __init__(self, plan: str) -> None:
        document = json.loads(Path(plan).read_text())
        self.suites: dict[str, dict[str, str]] = document.get("suites", {})
        self.tests: dict[str, dict[str, dict[str, str]]] = document.get("tests", {})
        self.steps: dict[str, dict[str, list[list[str]]]] = document.get("steps", {})
        self.test_timeout: str | None = document.get("test_timeout")
        self.unused = {(s, t) for s, tests in self.tests.items() for t in tests}
        self.unused |= {(s, "") for s in self.suites}

    def start_suite(self, suite: TestSuite) -> None:
        source = Path(str(suite.source or ""))
        if not source.is_file():
            return
        stem = source.stem
        if suite.tests:
            suite.resource.imports.library(ISOLATION, alias=ISOLATION_ALIAS)
        if stem in self.suites:
            self.unused.discard((stem, ""))
            for name, value in sorted(self.suites[stem].items()):
                suite.resource.variables.create(name=f"${{{name}}}", value=[_escape(value)])
        for test in suite.tests:
            if self.test_timeout and not test.timeout:
                test.timeout = self.test_timeout
            values = self.tests.get(stem, {}).get(test.name, {})
            if test.name in self.tests.get(stem, {}):
                self.unused.discard((stem, test.name))
            steps = list(test.body)
            test.body.clear()
            for name, value in sorted(values.items()):
                test.body.create_keyword(
                    "BuiltIn.Set Test Variable", (f"${{{name}}}", _escape(value))
                )
            test.body.create_keyword(f"{ISOLATION_ALIAS}.Start Test Afresh")
            for keyword, *args in self.steps.get(stem, {}).get(test.name, []):
                test.body.create_keyword(keyword, tuple(args))
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
