"""The classifier's flow table (pure, clock passed in): flows still being inspected, bounded in
number and expired when idle, and flows just decided, remembered briefly so that packets queued
before the verdict reached the kernel are let through untouched.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")
S = TypeVar("S")


@dataclass
class Inspecting(Generic[S]):
    """A flow under inspection: its engine state, packets seen and when it was last seen."""

    state: S
    packets: int
    last_seen: float


class FlowTable(Generic[K, S]):
    """At most `limit` flows under inspection (the least recently seen is dropped for a new
    one), each dropped after `idle` seconds without a packet; decided flows are kept `linger`
    seconds. `release` is called with the state of every flow that leaves without a decision."""

    def __init__(
        self,
        release: Callable[[S], None],
        *,
        limit: int = 16384,
        idle: float = 30.0,
        linger: float = 2.0,
    ) -> None:
        if limit < 1:
            raise ValueError("a flow table holds at least one flow")
        self._release = release
        self.limit, self.idle, self.linger = limit, idle, linger
        self._inspecting: OrderedDict[K, Inspecting[S]] = OrderedDict()
        self._decided: OrderedDict[K, float] = OrderedDict()
        self.evicted = 0
        self.expired = 0

    def __len__(self) -> int:
        return len(self._inspecting)

    def __contains__(self, key: K) -> bool:
        return key in self._inspecting

    def decided_recently(self, key: K) -> bool:
        return key in self._decided

    def touch(self, key: K, now: float, make: Callable[[], S]) -> Inspecting[S]:
        """The flow's entry, made if new, with one more packet counted."""
        entry = self._inspecting.get(key)
        if entry is None:
            while len(self._inspecting) >= self.limit:
                _, oldest = self._inspecting.popitem(last=False)
                self._release(oldest.state)
                self.evicted += 1
            entry = self._inspecting[key] = Inspecting(make(), 0, now)
        else:
            self._inspecting.move_to_end(key)
        entry.packets += 1
        entry.last_seen = now
        return entry

    def forget(self, key: K) -> None:
        """Drops what is known of a flow (a new connection reuses its 5-tuple)."""
        entry = self._inspecting.pop(key, None)
        if entry is not None:
            self._release(entry.state)
        self._decided.pop(key, None)

    def decide(self, key: K, now: float) -> S | None:
        """Moves the flow to the decided ones; returns its state for the caller to free."""
        entry = self._inspecting.pop(key, None)
        self._decided[key] = now + self.linger
        self._decided.move_to_end(key)
        while len(self._decided) > self.limit:
            self._decided.popitem(last=False)
        return None if entry is None else entry.state

    def expire(self, now: float) -> int:
        """Drops flows idle for `idle` seconds and decided ones past `linger`; how many idle."""
        dropped = 0
        while self._inspecting:
            key, entry = next(iter(self._inspecting.items()))
            if now - entry.last_seen < self.idle:
                break
            del self._inspecting[key]
            self._release(entry.state)
            dropped += 1
        while self._decided:
            key, until = next(iter(self._decided.items()))
            if until > now:
                break
            del self._decided[key]
        self.expired += dropped
        return dropped

    def clear(self) -> None:
        while self._inspecting:
            self._release(self._inspecting.popitem()[1].state)
        self._decided.clear()
