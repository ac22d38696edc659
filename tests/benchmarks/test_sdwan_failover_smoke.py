"""A smoke run of benchmarks/sdwan_failover.py (root, namespaces): two runs of the fast
scenarios (carrier loss, silent blackout, brownout by delay) print one line each and leave no
namespace behind. A measurement, not a timed test (brownout by loss needs minutes)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.site.drivers.netlab import can_build_namespaces, ip

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "sdwan_failover.py"
REASON = can_build_namespaces()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(REASON is not None, reason=REASON or "")]
LINES = [
    re.compile(rf"^{name}: p50 \d+ ms, max \d+ ms \(2 runs\)$", re.MULTILINE)
    for name in ("carrier loss", "silent blackout")
]
DELAY = re.compile(
    r"^brownout \(delay\): moved p50 [\d.]+ s, max [\d.]+ s after the delay began to grow "
    r"\(60 ms/s\); after the SLA broke p50 [\d.]+ ms, max [\d.]+ ms; after a move was due "
    r"\(SLA broken, internet compliant\) p50 [\d.]+ ms, max [\d.]+ ms; \d of 2 runs waited "
    r"for the internet link to keep the SLA$",
    re.MULTILINE,
)


def test_two_runs_print_a_line_per_scenario() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--runs", "2", "--timeout", "120",
         "--scenarios", "carrier,blackout,delay"],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for line in [*LINES, DELAY]:
        assert line.search(done.stdout), done.stdout
    assert "decision applied" in done.stdout
    prefix = re.search(r"lab prefix: (b[0-9a-f]{4})", done.stderr)
    assert prefix, done.stderr
    assert [n for n in ip("netns", "list").split() if n.startswith(f"{prefix[1]}-")] == []


def test_bad_arguments_exit_2() -> None:
    done = subprocess.run([sys.executable, str(BENCHMARK), "--runs", "0"],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "--runs 1..1000" in done.stderr
    done = subprocess.run([sys.executable, str(BENCHMARK), "--scenarios", "carrier,jam"],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2
    assert "(not jam)" in done.stderr
