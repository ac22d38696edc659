"""When a link's next probe goes (pure): slow while healthy, fast after a miss, never more than
`max_per_second` probes in any sliding 1-second window.

Fast means: after a miss and until an answer, or until the link is down (a down link is probed
at the healthy pace: every probe would miss, and coming back waits for the failback hold
anyway). The cap is counted over every window [t, t + 1 s): the k-th probe before a send went
at least one second earlier, k = max_per_second."""

from __future__ import annotations

from collections import deque

CAP_SPAN = 1.0


class ProbeScheduler:
    def __init__(self, healthy_interval: float, fast_interval: float, max_per_second: int) -> None:
        self.healthy_interval = healthy_interval
        self.fast_interval = fast_interval
        self.max_per_second = max_per_second
        self.fast = False
        self._sent: deque[float] = deque(maxlen=max_per_second)

    def next_send(self) -> float:
        """The earliest time the next probe may go (0.0: at once)."""
        if not self._sent:
            return 0.0
        interval = self.fast_interval if self.fast else self.healthy_interval
        when = self._sent[-1] + interval
        if len(self._sent) == self.max_per_second:
            when = max(when, self._sent[0] + CAP_SPAN)
        return when

    def due(self, now: float) -> bool:
        return now >= self.next_send()

    def sent(self, now: float) -> None:
        if not self.due(now):
            raise ValueError(f"a probe at {now:.6f} would break the schedule")
        self._sent.append(now)
