"""What the simulator shows: percentiles, and the sites a wave left stuck, counted."""

from __future__ import annotations

from edgewise.lab.simulator.report import percentile, stuck_lines
from edgewise.lab.simulator.waves import NOT_SENT, PARKED, Wave, stuck_at


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([1.0], 0.99) == 1.0


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
