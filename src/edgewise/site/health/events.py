"""Link state changes as the site reports them (pure): the `link-state` event a driver tells the
controller, and the limit that keeps a flapping link from flooding the outbox.

The limit is a token bucket per link: `burst` events at once, then one per `refill_s`. A change
beyond it is held back, not lost: the link's latest held change goes out (with how many were
held back) as soon as the link has a token again, unless its state is by then the one last
reported. The status and counters carry every link's state at all times anyway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

BURST = 6  # link-state events of one link at once...
REFILL_S = 30.0  # ... then one per this many seconds: a flapping link sends at most ~2/min


@dataclass(frozen=True)
class LinkEvent:
    """One link's state change: `old` -> `new` and why, when (wall clock, ISO 8601), and its
    figures then (latency, loss, jitter, probes sent and lost)."""

    link: str
    old: str
    new: str
    reason: str
    at: str
    figures: dict[str, Any] = field(default_factory=dict, compare=False)
    held_back: int = 0  # changes of this link not reported before this one (rate limit)

    def body(self) -> dict[str, Any]:
        """The outbox event."""
        found: dict[str, Any] = {
            "event": "link-state", "link": self.link, "from": self.old, "to": self.new,
            "reason": self.reason, "at": self.at, "figures": dict(self.figures),
        }  # fmt: skip
        if self.held_back:
            found["heldBack"] = self.held_back
        return found


@runtime_checkable
class ReportsLinkStates(Protocol):
    """A driver that tells its WAN links' state changes as they happen."""

    def link_events(self) -> AsyncIterator[LinkEvent]:
        """Yields each link state change; telling lasts while the iteration does."""
        ...


@dataclass
class _Bucket:
    tokens: float
    at: float
    reported: str | None = None  # the state last reported
    held: LinkEvent | None = None
    held_count: int = 0


class LinkEventLimiter:
    """Which link-state events go out now (`offer`), and which held ones may go later (`due`);
    times are clock seconds given by the caller."""

    def __init__(self, burst: int = BURST, refill_s: float = REFILL_S) -> None:
        if burst < 1 or refill_s <= 0:
            raise ValueError("burst >= 1 and refill_s > 0")
        self.burst = burst
        self.refill_s = refill_s
        self._links: dict[str, _Bucket] = {}

    def offer(self, event: LinkEvent, now: float) -> LinkEvent | None:
        """The event to send now, or None when it is held back."""
        bucket = self._bucket(event.link, now)
        if bucket.tokens >= 1:
            return self._send(bucket, event)
        bucket.held = event
        bucket.held_count += 1
        return None

    def due(self, now: float) -> list[LinkEvent]:
        """The held events that may go now: each link's latest, if its state changed since the
        last one reported (else it is dropped: nothing new to tell)."""
        found = []
        for bucket in self._links.values():
            self._refill(bucket, now)
            held = bucket.held
            if held is None or bucket.tokens < 1:
                continue
            if held.new == bucket.reported:
                bucket.held, bucket.held_count = None, 0
                continue
            found.append(self._send(bucket, replace(held, held_back=bucket.held_count - 1)))
        return found

    def next_due(self, now: float) -> float | None:
        """Seconds until a held event may go (None: none is held)."""
        waits = []
        for bucket in self._links.values():
            if bucket.held is not None:
                self._refill(bucket, now)
                waits.append(max(0.0, (1 - bucket.tokens) * self.refill_s))
        return min(waits, default=None)

    def _bucket(self, link: str, now: float) -> _Bucket:
        bucket = self._links.get(link)
        if bucket is None:
            bucket = self._links[link] = _Bucket(float(self.burst), now)
        self._refill(bucket, now)
        return bucket

    def _refill(self, bucket: _Bucket, now: float) -> None:
        elapsed = max(0.0, now - bucket.at)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed / self.refill_s)
        bucket.at = now

    @staticmethod
    def _send(bucket: _Bucket, event: LinkEvent) -> LinkEvent:
        bucket.tokens -= 1
        bucket.reported = event.new
        bucket.held, bucket.held_count = None, 0
        return event
