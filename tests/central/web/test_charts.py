"""The charts' geometry (pure): scale, ticks, a gap that breaks the line, the band."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edgewise.central.services.telemetry_history import Window
from edgewise.central.web.charts import HEIGHT, LEFT, WIDTH, Sample, chart, nice_ceiling

BEGIN = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (0.3, 0.5), (1, 1), (1.2, 2), (2.2, 2.5), (3, 5), (7, 10), (10, 10), (149, 200),
     (240, 250)],
)  # fmt: skip
def test_the_value_axis_ends_at_a_round_figure(value: float, ceiling: float) -> None:
    assert nice_ceiling(value) == pytest.approx(ceiling)


def at(minutes: int, value: float) -> Sample:
    return Sample(BEGIN + timedelta(minutes=minutes), value - 1, value, value + 1)


def test_a_line_spans_the_window_and_the_scale() -> None:
    begin = int(BEGIN.timestamp())
    drawn = chart(
        "latency",
        "Latency of mpls",
        "ms",
        [at(0, 10), at(60, 19)],
        Window(begin, begin + 3600, 3600, 60),
    )
    y = [10 + (1 - v / 20) * (HEIGHT - 34) for v in (10, 19)]  # the top is 20 (19 + 1 rounded)
    assert drawn.line == f"M{LEFT:.1f},{y[0]:.1f} L{WIDTH - 10:.1f},{y[1]:.1f}"
    assert [t.label for t in drawn.value_ticks] == ["0", "5", "10", "15", "20"]
    assert [t.label for t in drawn.time_ticks] == ["00:00", "00:15", "00:30", "00:45", "01:00"]
    assert drawn.band.startswith("M")
    assert drawn.band.endswith("Z")


def test_a_gap_longer_than_two_steps_breaks_the_line() -> None:
    begin = int(BEGIN.timestamp())
    samples = [at(0, 5), at(1, 5), at(10, 5), at(11, 5)]
    drawn = chart("loss", "Loss", "%", samples, Window(begin, begin + 720, 60, 60))
    assert drawn.line.count("M") == 2
    assert drawn.line.count("L") == 2
    assert drawn.band.count("Z") == 2


def test_nothing_to_draw_is_an_empty_line_with_axes() -> None:
    drawn = chart("jitter", "Jitter", "ms", [], Window(0, 3600, 60, 60))
    assert drawn.line == ""
    assert drawn.band == ""
    assert len(drawn.value_ticks) == 5
    assert drawn.samples == ()
