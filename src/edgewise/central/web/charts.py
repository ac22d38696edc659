"""Server-rendered line charts for a site's page (`templates/sites/chart.html` draws them as SVG):
pure geometry from a link's history points, no script and no library."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from edgewise.central.services.telemetry_history import LinkHistory, Window

WIDTH: Final = 640
HEIGHT: Final = 180
LEFT: Final = 56  # room for the value axis' labels
BOTTOM: Final = 24  # room for the time axis' labels
TOP: Final = 10
RIGHT: Final = 10
METRICS: Final = (
    ("latency", "Latency", "ms"),
    ("loss", "Loss", "%"),
    ("jitter", "Jitter", "ms"),
)


@dataclass(frozen=True)
class Sample:
    time: datetime
    low: float
    mean: float
    high: float


@dataclass(frozen=True)
class Tick:
    at: float  # the coordinate on its axis
    label: str
    anchor: str = "middle"  # SVG text-anchor: the first and last time labels stay inside


@dataclass(frozen=True)
class Chart:
    """One figure of one link over a window: the line (mean), the band (min to max), the axes'
    ticks, and the samples again for the table that stands in for the picture."""

    key: str
    title: str
    unit: str
    line: str  # SVG path data; empty when there is nothing to draw
    band: str
    value_ticks: tuple[Tick, ...]
    time_ticks: tuple[Tick, ...]
    samples: tuple[Sample, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = HEIGHT - BOTTOM


def charts_of(history: LinkHistory) -> tuple[Chart, ...]:
    """The latency, loss and jitter charts of a link's history (a chart per figure)."""
    found = []
    for key, title, unit in METRICS:
        samples = []
        for point in history.points:
            figure = point.figures.get(key)
            if figure is not None:
                samples.append(Sample(point.time, figure.low, figure.mean, figure.high))
        found.append(chart(key, f"{title} of {history.link}", unit, samples, history.window))
    return tuple(found)


def chart(key: str, title: str, unit: str, samples: Sequence[Sample], window: Window) -> Chart:
    """The geometry of `samples` over the window (Unix times `begin` to `end`): a gap longer
    than two steps breaks the line (no sample is not the same as a flat line)."""
    begin, end, step = window.begin, window.end, window.step
    top = nice_ceiling(max((s.high for s in samples), default=0.0))
    span = max(end - begin, 1)

    def x(moment: datetime) -> float:
        return LEFT + (moment.timestamp() - begin) / span * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return TOP + (1 - value / top) * (HEIGHT - TOP - BOTTOM)

    line: list[str] = []
    band_parts: list[str] = []
    run: list[Sample] = []
    last: datetime | None = None
    for sample in samples:
        if last is not None and (sample.time - last).total_seconds() > 2 * step:
            band_parts.append(_band(run, x, y))
            run = []
        command = "M" if not run else "L"
        line.append(f"{command}{x(sample.time):.1f},{y(sample.mean):.1f}")
        run.append(sample)
        last = sample.time
    band_parts.append(_band(run, x, y))
    value_ticks = tuple(Tick(y(top * i / 4), _number(top * i / 4)) for i in range(5))
    anchors = ("start", "middle", "middle", "middle", "end")
    time_ticks = tuple(
        Tick(LEFT + i / 4 * (WIDTH - LEFT - RIGHT), _clock(begin + span * i // 4, span), anchor)
        for i, anchor in enumerate(anchors)
    )
    return Chart(key, title, unit, " ".join(line), " ".join(p for p in band_parts if p),
                 value_ticks, time_ticks, tuple(samples))  # fmt: skip


def _band(
    run: Sequence[Sample], x: Callable[[datetime], float], y: Callable[[float], float]
) -> str:
    """The closed area between the run's highs and lows."""
    if len(run) < 2:
        return ""
    upper = [f"{x(s.time):.1f},{y(s.high):.1f}" for s in run]
    lower = [f"{x(s.time):.1f},{y(s.low):.1f}" for s in reversed(run)]
    return "M" + " L".join(upper + lower) + " Z"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** _floor_log10(value)
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * power:
            return factor * power
    return 10 * power  # pragma: no cover - the loop ends at 10


def _floor_log10(value: float) -> int:
    exponent = 0
    while value >= 10:
        value /= 10
        exponent += 1
    while value < 1:
        value *= 10
        exponent -= 1
    return exponent


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2g}"


def _clock(moment: int, span: int) -> str:
    at = datetime.fromtimestamp(moment, UTC)
    return at.strftime("%H:%M") if span <= 2 * 86400 else at.strftime("%d %b")
