"""Backoff with a fake random source: caps, full jitter, Retry-After, reset."""

from __future__ import annotations

import random

from edgewise.site.backoff import MAX_RETRY_AFTER, Backoff, initial_delay


class Highest(random.Random):
    """A random source that always draws the top of the range."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_delays_double_up_to_the_cap() -> None:
    backoff = Backoff(base=0.5, cap=10.0, rng=Highest())
    assert [backoff.next_delay() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_full_jitter_stays_within_the_ceiling() -> None:
    backoff = Backoff(rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(200)]
    assert all(0 <= d <= 10.0 for d in delays)
    assert len(set(delays)) == 200


def test_retry_after_wins_with_a_little_jitter() -> None:
    backoff = Backoff(base=0.5, rng=Highest())
    assert backoff.next_delay(retry_after=30) == 30.5
    assert backoff.next_delay(retry_after=10**6) == MAX_RETRY_AFTER + 0.5


def test_many_failures_do_not_overflow() -> None:
    backoff = Backoff(rng=Highest(), failures=5000)
    assert backoff.next_delay() == 10.0


def test_initial_delay() -> None:
    assert initial_delay(0, Highest()) == 0.0
    assert initial_delay(5.0, Highest()) == 5.0
    assert 0 <= initial_delay(5.0, random.Random(3)) <= 5.0
