"""Auto-scaling decisions (pure): from a rule's band, the rate its counters rose at and where
its VNF stands, what to do now — scale out or in by one step, or hold and why. The tracker's
step (autoscale_step.py) reads the telemetry, asks here, and starts what is decided.

    rate > scale_out_above   scale out, unless at max level, an operation in flight, cooling
    rate < scale_in_below    scale in,  unless at min level, an operation in flight, cooling
    otherwise                within the band (scale_in_below < scale_out_above: the hysteresis)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

RATE_METRICS: Final = ("PacketCount", "ByteCount", "DropCount")  # cumulative: read as a rate


class Kind(StrEnum):
    SCALE_OUT = "scale-out"
    SCALE_IN = "scale-in"
    WITHIN_BAND = "within-band"
    BASELINE = "baseline"  # a first reading, or counters that went back (rules reloaded)
    NO_COUNTERS = "no-counters"
    HELD_COOL_DOWN = "held-cool-down"
    HELD_MAX_LEVEL = "held-at-max-level"
    HELD_MIN_LEVEL = "held-at-min-level"
    HELD_BUSY = "held-operation-in-flight"
    HELD_NOT_RUNNING = "held-ns-not-instantiated"
    REFUSED = "refused"  # the orchestrator refused the scaling (no slot free...)


@dataclass(frozen=True)
class Band:
    scale_out_above: float
    scale_in_below: float
    cooldown_s: int
    min_level: int
    max_level: int


@dataclass(frozen=True)
class Decision:
    kind: Kind
    steps: int  # +1 out, -1 in, 0 none
    detail: str


def rate(
    previous: float | None, previous_at: datetime | None, value: float, at: datetime
) -> float | None:
    """Per second between two readings of a cumulative counter; None with no earlier reading,
    no time between them, or a counter that went back."""
    if previous is None or previous_at is None or value < previous:
        return None
    seconds = (at - previous_at).total_seconds()
    return (value - previous) / seconds if seconds > 0 else None


def direction(band: Band, per_second: float) -> int:
    """+1 above the band, -1 below it, 0 within it."""
    if per_second > band.scale_out_above:
        return 1
    return -1 if per_second < band.scale_in_below else 0


def within(band: Band, per_second: float) -> Decision | None:
    """The decision of a rate within the band (nothing to do), else None."""
    if direction(band, per_second) != 0:
        return None
    return Decision(Kind.WITHIN_BAND, 0, f"{per_second:.1f}/s within {band.scale_in_below:g}.."
                    f"{band.scale_out_above:g}/s")  # fmt: skip


def decide(
    band: Band, per_second: float, level: int, *, cooling_s: float, busy: str | None
) -> Decision:
    """What a rule whose rate is `per_second` does with its VNF at `level`; `cooling_s` is how
    much of the cool-down is left (0: none), `busy` the operation in flight, if any."""
    inside = within(band, per_second)
    if inside is not None:
        return inside
    steps = direction(band, per_second)
    figure = f"{per_second:.1f}/s"
    if steps > 0 and level >= band.max_level:
        return Decision(Kind.HELD_MAX_LEVEL, 0, f"{figure} above {band.scale_out_above:g}/s, "
                        f"at max level {band.max_level}")  # fmt: skip
    if steps < 0 and level <= band.min_level:
        return Decision(Kind.HELD_MIN_LEVEL, 0, f"{figure} below {band.scale_in_below:g}/s, "
                        f"at min level {band.min_level}")  # fmt: skip
    if busy is not None:
        return Decision(Kind.HELD_BUSY, 0, f"{figure}: the NS has operation {busy} in flight")
    if cooling_s > 0:
        return Decision(Kind.HELD_COOL_DOWN, 0, f"{figure}: cool-down, {cooling_s:.0f} s left "
                        f"of {band.cooldown_s} s")  # fmt: skip
    kind, side = (Kind.SCALE_OUT, "above") if steps > 0 else (Kind.SCALE_IN, "below")
    limit = band.scale_out_above if steps > 0 else band.scale_in_below
    return Decision(kind, steps, f"{figure} {side} {limit:g}/s: level {level} -> "
                    f"{level + steps}")  # fmt: skip


def cooling(scaled_at: datetime | None, now: datetime, cooldown_s: int) -> float:
    """Seconds of the cool-down left after the rule's last scaling (0: none)."""
    if scaled_at is None:
        return 0.0
    return max(0.0, cooldown_s - (now - scaled_at).total_seconds())
