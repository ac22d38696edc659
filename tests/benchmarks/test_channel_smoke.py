"""Smoke runs of the channel benchmarks: each main path works and prints its figures.

Measurements, not timed tests: nothing here asserts a duration.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
pytestmark = pytest.mark.slow


def bench(name: str, *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_channel_scale_prints_its_figures() -> None:
    out = bench("channel_scale", "--sites", "20", "--timeout", "60")
    assert re.search(
        r"\[20 sites\] received p50/p99/max: [\d.]+ / [\d.]+ / [\d.]+ s \(20/20\)", out
    )
    assert re.search(r"applied and recorded p50/p99/max: .* \(20/20\)", out)
    assert re.search(r"central peak RSS \(VmHWM\): \d+ MB", out)
    assert re.search(r"central CPU during the wave: [\d.]+ s", out)
    assert re.search(r"requests served during the wave .*: \d+ = \d+ requests/s", out)
    assert re.search(r"connections opened by the sites during the wave .*: \d+", out)
    assert re.search(r"errors seen by the sites during the wave: \d+ \(before it, .*: \d+\)", out)


def test_channel_restart_prints_its_figures() -> None:
    out = bench("channel_restart", "--sites", "10", "--timeout", "60", "--settle", "0.5")
    assert re.search(r"\[10 sites\] reconnected p50/p99/max: .* \(10/10\)", out)
    assert re.search(r"in sync \(revision 2 recorded\) p50/p99/max: .* \(10/10\)", out)
    assert re.search(r"failed calls seen by the sites: \d+", out)
    assert "central after restart: running" in out


def test_controller_idle_prints_its_figures() -> None:
    """In its own network namespace when root (veth counters), else through a loopback relay."""
    out = bench(
        "controller_idle", "--idle", "2", "--warmup", "1.5", "--first-poll-max-delay", "0.1"
    )
    method = "veth counters of namespace ewbi" if os.geteuid() == 0 else "loopback relay"
    assert f"bytes counted by: {method}" in out
    assert re.search(r"controller RSS at the end \(VmRSS\): [\d.]+ MB", out)
    assert re.search(r"bytes per minute on the wire \(both ways\): \d+ B/min", out)


@pytest.mark.skipif(os.geteuid() != 0, reason="the linux driver needs root (namespaces)")
def test_controller_idle_with_the_linux_driver_builds_its_service_and_cleans_up() -> None:
    out = bench(
        "controller_idle", "--idle", "2", "--warmup", "4", "--first-poll-max-delay", "0.1",
        "--driver", "linux",
    )  # fmt: skip
    assert "driver linux (2 VNF namespaces built)" in out
    assert re.search(r"controller RSS at the end \(VmRSS\): [\d.]+ MB", out)
    found = re.search(r"namespace ewbi([0-9a-f]{4})", out)
    assert found, out
    mine = (f"ewbi{found[1]}", f"bi{found[1]}-")  # the run's namespaces, the site's VNFs
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    assert not [n for n in listed.stdout.split() if n.startswith(mine)], listed.stdout
