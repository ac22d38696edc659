"""Failed token attempts per client address, so that tokens cannot be guessed at speed: each
address has a bucket of `burst` failures that refills at `burst` per `window` seconds; an
address with an empty bucket is refused (429, Retry-After) before its token is even looked at.
In memory, per replica, at most `capacity` addresses (the least recently failing go first)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable


class FailedAttempts:
    def __init__(
        self,
        burst: int = 10,
        window: float = 60.0,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.rate = burst / window  # failures forgiven per second
        self.capacity = capacity
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until `address` may try again; None when it may now."""
        tokens = self._tokens(address)
        if tokens >= 1:
            return None
        return max(1, math.ceil(round((1 - tokens) / self.rate, 6)))  # (no 1.0000001 s)

    def failed(self, address: str) -> None:
        """Notes a failed attempt of `address`."""
        tokens = max(0.0, self._tokens(address) - 1)
        self._buckets[address] = (tokens, self.clock())
        self._buckets.move_to_end(address)
        while len(self._buckets) > self.capacity:
            self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)

    def _tokens(self, address: str) -> float:
        held = self._buckets.get(address)
        if held is None:
            return float(self.burst)
        tokens, when = held
        return min(float(self.burst), tokens + (self.clock() - when) * self.rate)
