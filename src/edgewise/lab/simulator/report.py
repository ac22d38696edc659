"""What `edgewise simulate` and the channel benchmarks show: progress bars and wave figures.

Pure functions over the `waves` that `simulation` records, plus the rich progress bars it
drives (on the console the caller gives).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from edgewise.lab.simulator.waves import Stuck, Wave


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted `values`."""
    return values[min(len(values) - 1, round(fraction * (len(values) - 1)))]


def summary(name: str, values: Sequence[float], count: int) -> str:
    ordered = sorted(values)
    if not ordered:
        return f"{name} 0/{count} sites"
    return (
        f"{name} {len(ordered)}/{count} sites in {ordered[-1]:.2f} s "
        f"(p50 {statistics.median(ordered):.2f} s, p99 {percentile(ordered, 0.99):.2f} s)"
    )


def progress_bars(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def report(wave: Wave, count: int, console: Console) -> None:
    """The last lines of `edgewise simulate`: when the sites received and converged."""
    if wave.received:
        console.print(summary("received by", list(wave.received.values()), count), markup=False)
    times = sorted(wave.done.values())
    if times:
        console.print(
            f"converged {len(times)}/{count} sites in {times[-1]:.2f} s "
            f"(p50 {statistics.median(times):.2f} s, p99 {percentile(times, 0.99):.2f} s)",
            markup=False,
            highlight=False,
        )


def stuck_lines(stuck: Mapping[str, Stuck], examples: int = 5) -> list[str]:
    """Where the sites whose report was not acknowledged were: a count per phase, their last
    errors by kind, and a few examples (times in s from the change)."""
    lines = [f"{n:6d}  {phase}" for phase, n in Counter(s.phase for s in stuck.values()).items()]
    errors = Counter(s.last_error or "(no error seen)" for s in stuck.values())
    lines.append("last error seen by them: " + ", ".join(f"{k} x{n}" for k, n in errors.items()))
    for site_id, where in sorted(stuck.items())[:examples]:
        poll = "never" if where.last_poll is None else f"{where.last_poll:+.1f} s"
        error = (
            "none"
            if where.last_error is None
            else f"{where.last_error} at {where.last_error_at or 0.0:+.1f} s"
        )
        lines.append(f"e.g. site {site_id}: {where.phase}; last poll sent {poll}; error {error}")
    return lines
