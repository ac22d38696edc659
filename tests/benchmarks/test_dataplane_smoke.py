"""Smoke runs of the data-plane benchmarks (root, namespaces): each prints its figures.

Measurements, not timed tests: only the build and repair goals' generous bounds are checked.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.site.drivers.netlab import can_build_namespaces, ip

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
REASON = can_build_namespaces() or (
    None if Path("/usr/bin/iperf3").exists() else "iperf3 is not installed"
)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(REASON is not None, reason=REASON or "")]


BARE_ROW = re.compile(r"^bare veth +\| +[\d.]+ 1\.00 \(1\.00-1\.00\) +[\d.]+$", re.MULTILINE)
CHAIN_ROW = re.compile(r"^1-VNF +\| +[\d.]+ [\d.]+ \([\d.]+-[\d.]+\) +[\d.]+$", re.MULTILINE)


def bench(name: str, *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"dataplane_{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    prefix = re.search(r"lab prefix: (b[0-9a-f]{4})", done.stderr)
    assert prefix, done.stderr
    left = [n for n in ip("netns", "list").split() if n.startswith(f"{prefix[1]}-")]
    assert left == []  # its lab is gone
    return done.stdout


def test_throughput_prints_a_table_against_bare_veth() -> None:
    out = bench(
        "throughput", "--rounds", "1", "--seconds", "1", "--omit", "0", "--chains", "1",
        "--streams", "1", "--timeout", "60",
    )  # fmt: skip
    assert re.search(r"^bare veth +\| +[\d.]+ 1\.00 \(1\.00-1\.00\) +[\d.]+$", out, re.MULTILINE), (
        out
    )
    assert re.search(r"^1-VNF +\| +[\d.]+ [\d.]+ \([\d.]+-[\d.]+\) +[\d.]+$", out, re.MULTILINE), (
        out
    )


def test_build_prints_scale_and_time_to_traffic() -> None:
    out = bench("build", "--services", "3", "--runs", "3", "--timeout", "90")
    assert re.search(r"3 services \(6 VNFs\) on one site:", out), out
    assert "traffic through the first and last service: yes" in out
    assert re.search(r"controller process RSS: \d+ MiB", out)
    assert re.search(r"kernel memory \(system-wide\): [+-]\d+ MiB", out)
    assert "left behind: nothing" in out
    found = re.search(r"3 runs: p50 (\d+) ms, p99 (\d+) ms", out)
    assert found, out
    assert int(found[1]) < 1000  # the goal is 100 ms; this only catches a regression


def test_repair_prints_each_kind_of_drift() -> None:
    out = bench("repair", "--runs", "1", "--timer-runs", "0", "--timeout", "90")
    for breakage in ("namespace deleted", "link set down", "ruleset flushed", "process killed"):
        found = re.search(rf"{breakage} +p50 +(\d+) ms +max +(\d+) ms +\(1 runs\)", out)
        assert found, out
        assert int(found[2]) < 2000  # the goal is 1 s; this only catches a regression
    assert "goal: repair <= 1 s with the drift watch:" in out
