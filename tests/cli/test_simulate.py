"""`edgewise simulate` end to end: its own central, real controllers in worker processes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from edgewise.cli.simulate import Probe, default_workers, percentile

FINAL = re.compile(r"^converged 20/20 sites in [\d.]+ s \(p50 [\d.]+ s, p99 [\d.]+ s\)$")


@pytest.mark.slow
@pytest.mark.parametrize("workers", [None, "2"])
def test_simulate_converges_and_ends_with_the_figures(workers: str | None) -> None:
    extra = ["--workers", workers] if workers else []
    done = subprocess.run(
        [sys.executable, "-m", "edgewise", "simulate", "--sites", "20", "--timeout", "60", *extra],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert FINAL.match(lines[-1]), lines[-5:]
    assert any(line.startswith("received by 20/20 sites in ") for line in lines)


def test_workers_keep_each_process_under_its_open_file_limit() -> None:
    assert default_workers(1) == 1
    assert default_workers(3000) == 1
    assert default_workers(10_000) == 4


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([1.0], 0.99) == 1.0


def test_probe_drains_what_happened_since_the_last_message() -> None:
    probe = Probe()
    probe.note("received", "site-a", 3)
    probe.answered()
    first = probe.drain()
    assert [event[:3] for event in first["events"]] == [["received", "site-a", 3]]
    assert sum(first["requests"].values()) == 1
    assert probe.drain()["events"] == []
