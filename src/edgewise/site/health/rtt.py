"""A probe's timeout from the RTTs seen (pure): RFC 6298's smoothed RTT and variation.

timeout = clamp(2 x srtt + 4 x rttvar, timeout_min, timeout_max); `timeout_max` until the
first answer. Twice srtt rather than RFC 6298's once: a probe's timeout decides a miss, and a
stable link (rttvar near 0) would otherwise count answers a hair late as lost."""

from __future__ import annotations


class RttEstimator:
    def __init__(self, timeout_min: float, timeout_max: float) -> None:
        self.timeout_min = timeout_min
        self.timeout_max = timeout_max
        self.srtt: float | None = None
        self.rttvar = 0.0

    def add(self, rtt: float) -> None:
        if self.srtt is None:
            self.srtt, self.rttvar = rtt, rtt / 2
            return
        self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
        self.srtt = 0.875 * self.srtt + 0.125 * rtt

    @property
    def timeout(self) -> float:
        if self.srtt is None:
            return self.timeout_max
        wanted = 2 * self.srtt + 4 * self.rttvar
        return min(self.timeout_max, max(self.timeout_min, wanted))
