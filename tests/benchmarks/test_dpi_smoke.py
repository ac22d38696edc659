"""Smoke run of the DPI benchmark (root, namespaces, nDPI, iptables-nft): it prints its figures
and leaves nothing behind. A measurement, not a timed test: only the identification goal is
checked, on a small run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.site.drivers.linux.dpi.lab import skip_reason
from tests.site.drivers.netlab import ip

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
REASON = skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(REASON is not None, reason=REASON or "")]


def test_dpi_benchmark_prints_its_figures(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "dpi.py"), "--rounds", "1", "--flows", "60",
         "--threads", "4", "--timeout", "90", "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=150, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    share = re.search(r"^applications identified: (\d+)/(\d+) flows \(([\d.]+)%", out, re.MULTILINE)
    assert share, out
    assert float(share[3]) >= 95, out
    assert re.search(
        r"^packets needed \(median, both directions\): .*youtube 4", out, re.MULTILINE
    ), out
    rows = re.findall(
        r"^new flows/s, .*: (\d+) with DPI, (\d+) without .* (\d+) µs$", out, re.MULTILINE
    )
    assert len(rows) == 2, out
    assert (
        len(re.findall(r"^classifier capacity, .*: about \d+ new flows/s", out, re.MULTILINE)) == 2
    )
    prefix = re.search(r"lab prefix: (d[0-9a-f]{4})", done.stderr)
    assert prefix, done.stderr
    assert [n for n in ip("netns", "list").split() if n.startswith(f"{prefix[1]}-")] == []
