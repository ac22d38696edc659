"""Probe figures over a sliding window (pure): loss over the last `window` probes, latency and
jitter over the last `latency_window` answers.

Loss needs many samples to mean anything (telling 2% from 5% takes hundreds of probes), a
latency average does not (every answer measures it), hence two spans. Jitter is RFC 3550's
D: the absolute difference between the RTTs of consecutive answers, averaged over the recent
span (RFC 3550 smooths the same D with a 1/16 gain instead; a plain mean keeps it a window
figure like the others, and is taken on RTT as probes carry no sender clock)."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Figures:
    """A link's probe figures. None where there is nothing to measure yet."""

    loss_pct: float | None  # over the probes in the loss window
    latency_ms: float | None  # mean RTT of the recent answers
    jitter_ms: float | None  # mean |RTT difference| of consecutive recent answers
    probes: int  # in the loss window
    window_full: bool  # loss is judged only once the window is full


class ProbeWindow:
    """Outcomes of the last probes: None for a miss, the RTT in seconds for an answer."""

    def __init__(self, size: int, latency_size: int) -> None:
        self.size = size
        self._outcomes: deque[float | None] = deque(maxlen=size)
        self._lost = 0
        self._rtts: deque[float] = deque(maxlen=latency_size)

    def add(self, rtt: float | None) -> None:
        if len(self._outcomes) == self.size and self._outcomes[0] is None:
            self._lost -= 1
        self._outcomes.append(rtt)
        if rtt is None:
            self._lost += 1
        else:
            self._rtts.append(rtt)

    def clear(self) -> None:
        self._outcomes.clear()
        self._rtts.clear()
        self._lost = 0

    def figures(self) -> Figures:
        count = len(self._outcomes)
        rtts = list(self._rtts)
        latency = 1000 * sum(rtts) / len(rtts) if rtts else None
        steps = [abs(b - a) for a, b in itertools.pairwise(rtts)]
        jitter = 1000 * sum(steps) / len(steps) if steps else None
        return Figures(
            loss_pct=100 * self._lost / count if count else None,
            latency_ms=latency,
            jitter_ms=jitter,
            probes=count,
            window_full=count == self.size,
        )

    @property
    def recent_answers(self) -> int:
        return len(self._rtts)
