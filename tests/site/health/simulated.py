"""A simulated link for link health's tests: a LinkMonitor driven on a fake clock as the prober
drives it, over a path with a given RTT, random loss and blackouts (no I/O, no sleeping)."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from edgewise.site.health import LinkMonitor, Transition

Path = Callable[[float], float | None]  # send time -> RTT, or None when the probe is lost


@dataclass
class SimulatedLink:
    monitor: LinkMonitor
    path: Path
    now: float = 0.0
    sends: list[float] = field(default_factory=list)
    changes: list[Transition] = field(default_factory=list)
    _echoes: list[tuple[float, int]] = field(default_factory=list)

    def run_until(self, end: float, max_steps: int = 2_000_000) -> None:
        for _ in range(max_steps):
            wake = self.monitor.next_wakeup()
            if self._echoes:
                wake = min(wake, self._echoes[0][0])
            if wake > end:
                self.now = end
                return
            self.now = max(self.now, wake)
            while self._echoes and self._echoes[0][0] <= self.now:
                received, sequence = heapq.heappop(self._echoes)
                self._note(self.monitor.answered(sequence, received, self.now))
            for change in self.monitor.expire(self.now):
                self._note(change)
            if self.monitor.due(self.now):
                probe = self.monitor.send(self.now)
                self.sends.append(self.now)
                rtt = self.path(self.now)
                if rtt is not None:
                    heapq.heappush(self._echoes, (self.now + rtt, probe.sequence))
        raise AssertionError("the simulation did not end")

    def carrier(self, up: bool) -> None:
        self._note(self.monitor.carrier(up, self.now))

    def _note(self, change: Transition | None) -> None:
        if change is not None:
            self.changes.append(change)


def lossy(rng: random.Random, loss: float, rtt: float = 0.0005) -> Path:
    return lambda _: None if rng.random() < loss else rtt


def blackout(start: float, end: float, rtt: float = 0.0005) -> Path:
    return lambda at: None if start <= at < end else rtt
