"""How long the site controller waits before calling the central again after a failure.

Capped exponential backoff with full jitter; a server's Retry-After wins when it is longer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

MAX_RETRY_AFTER = 600.0


@dataclass
class Backoff:
    """`next_delay()` after each failure, `reset()` after a success.

    The n-th consecutive failure waits a uniform random time in [0, min(cap, base * 2**(n-1))]
    ("full jitter", so that thousands of sites do not come back in step). When the server said
    Retry-After, the wait is that long (at most MAX_RETRY_AFTER) plus a jitter of up to `base`.
    """

    base: float = 0.5
    cap: float = 10.0
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next_delay(self, retry_after: float | None = None) -> float:
        self.failures += 1
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, MAX_RETRY_AFTER) + self.rng.uniform(0, self.base)
        ceiling = min(self.cap, self.base * 2 ** min(self.failures - 1, 62))
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        self.failures = 0


def initial_delay(max_delay: float, rng: random.Random) -> float:
    """The random wait before the first poll, so that sites started together spread out."""
    return rng.uniform(0, max_delay) if max_delay > 0 else 0.0
