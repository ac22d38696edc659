"""A smoke run of benchmarks/l7steer.py (root, namespaces, nDPI): it prints the flow rates with
DPI on and off, where the flows went, and leaves no namespace behind. A measurement, not a
timed test."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.site.drivers.linux.dpi.lab import skip_reason
from tests.site.drivers.netlab import ip

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "l7steer.py"
REASON = skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(REASON is not None, reason=REASON or "")]


def test_a_small_run_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--flows", "60", "--threads", "2", "--timeout", "60"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"^new flows/s through the steering path: \d+ with DPI on, \d+ with DPI off",
                     out, re.MULTILINE), out  # fmt: skip
    where = re.search(r"^DPI off: 60 lte; DPI on: (\d+) inet, (\d+) lte", out, re.MULTILINE)
    assert where, out
    assert int(where[1]) >= 50, out  # all but the first few: steered from their SYN
    assert re.search(r"^classifier: 60 flows classified, .* 0 errors", out, re.MULTILINE), out
    prefix = re.search(r"lab prefix: (l[0-9a-f]{4})", done.stderr)
    assert prefix, done.stderr
    assert [n for n in ip("netns", "list").split() if n.startswith(f"{prefix[1]}-")] == []
