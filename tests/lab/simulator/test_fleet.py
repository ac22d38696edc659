"""The simulator's worker processes: how many a fleet needs."""

from __future__ import annotations

from edgewise.lab.simulator.fleet import default_workers


def test_workers_keep_each_process_under_its_open_file_limit() -> None:
    assert default_workers(1) == 1
    assert default_workers(3000) == 1
    assert default_workers(10_000) == 4
