"""A WAN link's state (pure): up, degraded or down, with hysteresis and a failback hold.

- any -> down: `down_after` consecutive misses, or carrier lost (at once);
- up -> degraded: a figure above its threshold (loss only once the loss window is full);
- degraded -> up: no figure above `recover_ratio` x its threshold for `failback_hold` seconds
  (the hysteresis band and the hold);
- down -> up, or degraded if a figure is above its threshold: carrier back, `up_after`
  consecutive answers, and no down condition (`down_after` misses in a row, carrier loss) for
  `failback_hold` seconds; an isolated miss does not restart the hold.
A link starts down ("not yet probed"); the hold does not apply before its first failure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from edgewise.site.health.settings import Thresholds
from edgewise.site.health.window import Figures


class LinkState(enum.StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"


@dataclass(frozen=True)
class Transition:
    """A state change of one link: what it was, what it is, why, and when (clock seconds)."""

    link: str
    old: LinkState
    new: LinkState
    reason: str
    at: float


def breaches(figures: Figures, thresholds: Thresholds, ratio: float = 1.0) -> list[str]:
    """The figures above `ratio` x their threshold, described (empty: within)."""
    found = []
    loss = figures.loss_pct if figures.window_full else None
    if loss is not None and loss > ratio * thresholds.loss_pct:
        found.append(f"loss {figures.loss_pct:.1f}% > {ratio * thresholds.loss_pct:g}%")
    if figures.latency_ms is not None and figures.latency_ms > ratio * thresholds.latency_ms:
        found.append(f"latency {figures.latency_ms:.1f} ms > {ratio * thresholds.latency_ms:g} ms")
    if figures.jitter_ms is not None and figures.jitter_ms > ratio * thresholds.jitter_ms:
        found.append(f"jitter {figures.jitter_ms:.1f} ms > {ratio * thresholds.jitter_ms:g} ms")
    return found


class LinkStateMachine:
    def __init__(self, link: str, thresholds: Thresholds) -> None:
        self.link = link
        self.thresholds = thresholds
        self.state = LinkState.DOWN
        self.carrier = True
        self.misses = 0  # consecutive
        self.answers = 0  # consecutive
        self.last_down: float | None = None  # last moment a down condition held
        self.last_breach: float | None = None  # last moment a figure was above recovery level

    def carrier_changed(self, up: bool, now: float) -> Transition | None:
        self.carrier = up
        if up:
            return None
        self.last_down, self.answers = now, 0
        return self._go(LinkState.DOWN, "carrier lost", now)

    def outcome(self, answered: bool, figures: Figures, now: float) -> Transition | None:
        """A probe resolved (answered or missed); `figures` already include it."""
        if answered:
            self.misses, self.answers = 0, self.answers + 1
        else:
            self.misses, self.answers = self.misses + 1, 0
        if self.misses >= self.thresholds.down_after:
            self.last_down = now
            return self._go(LinkState.DOWN, f"{self.misses} probes missed in a row", now)
        return self.judge(figures, now)

    def judge(self, figures: Figures, now: float) -> Transition | None:
        """Moves up/degraded by the figures; brings a down link back when it may."""
        hold = self.thresholds.failback_hold
        broken = breaches(figures, self.thresholds)
        if breaches(figures, self.thresholds, self.thresholds.recover_ratio):
            self.last_breach = now
        if self.state is LinkState.DOWN:
            if not self.carrier or self.answers < self.thresholds.up_after:
                return None
            if self.last_down is not None and now - self.last_down < hold:
                return None
            if broken:
                return self._go(LinkState.DEGRADED, "answers again; " + ", ".join(broken), now)
            return self._go(LinkState.UP, "answers again", now)
        if broken:
            return self._go(LinkState.DEGRADED, ", ".join(broken), now)
        if self.state is LinkState.DEGRADED and (
            self.last_breach is None or now - self.last_breach >= hold
        ):
            return self._go(LinkState.UP, "figures within thresholds", now)
        return None

    def _go(self, new: LinkState, reason: str, now: float) -> Transition | None:
        if new is self.state:
            return None
        old, self.state = self.state, new
        return Transition(self.link, old, new, reason, now)
