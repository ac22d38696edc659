"""`edgewise simulate` end to end: its own central, real controllers in worker processes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from edgewise.cli.simfleet import (
    NEVER_POLLED,
    NOT_ACKNOWLEDGED,
    NOT_SENT,
    PARKED,
    REPOLLED,
    Wave,
    default_workers,
    stuck_at,
)
from edgewise.cli.simreport import percentile, stuck_lines
from edgewise.cli.simworker import Probe

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


def test_a_site_not_recorded_is_placed_in_the_phase_it_reached() -> None:
    wave = Wave(2, started=100.0, received={"woke": 1.0, "sent": 1.0}, reporting={"sent": 1.5})
    assert stuck_at(wave, "sent", 99.0, None).phase == NOT_ACKNOWLEDGED
    assert stuck_at(wave, "woke", 99.0, None).phase == NOT_SENT
    assert stuck_at(wave, "silent", None, None).phase == NEVER_POLLED
    parked = stuck_at(wave, "parked", 60.0, ("poll timeout TimeoutError", 130.0))
    assert (parked.phase, parked.last_poll) == (PARKED, -40.0)
    assert (parked.last_error, parked.last_error_at) == ("poll timeout TimeoutError", 30.0)
    assert stuck_at(wave, "again", 101.0, None).phase == REPOLLED


def test_stuck_sites_are_counted_by_phase_and_last_error() -> None:
    wave = Wave(1, started=0.0, received={"b": 0.5})
    stuck = {
        "a": stuck_at(wave, "a", -5.0, ("poll timeout TimeoutError", 80.0)),
        "b": stuck_at(wave, "b", -5.0, None),
        "c": stuck_at(wave, "c", -3.0, ("poll timeout TimeoutError", 90.0)),
    }
    lines = stuck_lines(stuck, examples=1)
    assert f"     2  {PARKED}" in lines
    assert f"     1  {NOT_SENT}" in lines
    assert "last error seen by them: poll timeout TimeoutError x2, (no error seen) x1" in lines
    assert lines[-1] == (
        f"e.g. site a: {PARKED}; last poll sent -5.0 s; error poll timeout TimeoutError at +80.0 s"
    )
    assert len(lines) == 4
