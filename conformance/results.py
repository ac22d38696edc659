"""Reads robot's output.xml (with the standard library, so that it needs no robot import):
the totals, and every failed test with its message."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Totals:
    passed: int
    failed: int
    skipped: int

    def line(self) -> str:
        """The closing line: "N passed, N failed" (", N skipped" only when some were)."""
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        return f"{self.passed} passed, {self.failed} failed{skipped}"


@dataclass(frozen=True)
class Failure:
    name: str  # suite names and test name, joined by dots
    message: str


def totals(output_xml: Path) -> Totals:
    root = ET.parse(output_xml).getroot()  # noqa: S314 - robot's own output
    stat = root.find("./statistics/total/stat")
    if stat is None:
        return Totals(0, 0, 0)
    return Totals(int(stat.get("pass", 0)), int(stat.get("fail", 0)), int(stat.get("skip", 0)))


def outcomes(output_xml: Path) -> dict[str, str]:
    """Every test's status (PASS, FAIL, SKIP) by its name: suite names and test name, by dots."""
    root = ET.parse(output_xml).getroot()  # noqa: S314 - robot's own output
    found: dict[str, str] = {}

    def walk(suite: ET.Element, prefix: str) -> None:
        name = f"{prefix}{suite.get('name', '')}"
        for test in suite.findall("test"):
            status = test.find("status")
            found[f"{name}.{test.get('name', '')}"] = (
                "" if status is None else status.get("status", "")
            )
        for child in suite.findall("suite"):
            walk(child, f"{name}.")

    for suite in root.findall("suite"):
        walk(suite, "")
    return found


def failures(output_xml: Path) -> list[Failure]:
    root = ET.parse(output_xml).getroot()  # noqa: S314 - robot's own output
    found: list[Failure] = []

    def walk(suite: ET.Element, prefix: str) -> None:
        name = f"{prefix}{suite.get('name', '')}"
        for test in suite.findall("test"):
            status = test.find("status")
            if status is not None and status.get("status") == "FAIL":
                message = " ".join((status.text or "").split())
                found.append(Failure(f"{name}.{test.get('name', '')}", message))
        for child in suite.findall("suite"):
            walk(child, f"{name}.")

    for suite in root.findall("suite"):
        walk(suite, "")
    return found


def write_failures(output_xml: Path, target: Path) -> None:
    target.write_text("".join(f"{f.name}\n    {f.message[:400]}\n" for f in failures(output_xml)))
