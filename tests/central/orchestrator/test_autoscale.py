"""Auto-scaling decisions (orchestrator.autoscale, pure): tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edgewise.central.orchestrator.autoscale import Band, Kind, cooling, decide, rate

BAND = Band(scale_out_above=100, scale_in_below=10, cooldown_s=60, min_level=0, max_level=2)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("per_second", "level", "cooling_s", "busy", "kind", "steps"),
    [
        (50, 1, 0, None, Kind.WITHIN_BAND, 0),
        (100, 1, 0, None, Kind.WITHIN_BAND, 0),  # at the limit: not above it
        (10, 1, 0, None, Kind.WITHIN_BAND, 0),
        (101, 0, 0, None, Kind.SCALE_OUT, 1),
        (101, 2, 0, None, Kind.HELD_MAX_LEVEL, 0),  # bounds before anything else
        (101, 2, 30, "op", Kind.HELD_MAX_LEVEL, 0),
        (101, 1, 0, "op", Kind.HELD_BUSY, 0),
        (101, 1, 30, None, Kind.HELD_COOL_DOWN, 0),
        (9, 1, 0, None, Kind.SCALE_IN, -1),
        (9, 0, 0, None, Kind.HELD_MIN_LEVEL, 0),
        (0, 2, 0, "op", Kind.HELD_BUSY, 0),
        (0, 2, 1, None, Kind.HELD_COOL_DOWN, 0),
    ],
)
def test_decide(
    per_second: float, level: int, cooling_s: float, busy: str | None, kind: Kind, steps: int
) -> None:
    decision = decide(BAND, per_second, level, cooling_s=cooling_s, busy=busy)
    assert (decision.kind, decision.steps) == (kind, steps), decision.detail


@pytest.mark.parametrize(
    ("previous", "previous_at", "value", "at", "expected"),
    [
        (None, None, 10, T0, None),  # a first reading: a baseline
        (100, T0, 1100, T0 + timedelta(seconds=10), 100.0),
        (100, T0, 100, T0 + timedelta(seconds=5), 0.0),
        (100, T0, 50, T0 + timedelta(seconds=5), None),  # counters went back: a new baseline
        (100, T0, 200, T0, None),  # no time between the readings
    ],
)
def test_rate(
    previous: float | None,
    previous_at: datetime | None,
    value: float,
    at: datetime,
    expected: float | None,
) -> None:
    assert rate(previous, previous_at, value, at) == expected


def test_cooling() -> None:
    assert cooling(None, T0, 60) == 0
    assert cooling(T0, T0 + timedelta(seconds=45), 60) == 15
    assert cooling(T0, T0 + timedelta(seconds=61), 60) == 0
