"""Wakes parked long-polls when a site's revision changes (here, or in another replica)."""

from __future__ import annotations

import asyncio
from collections import defaultdict


class RevisionHub:
    """Per-site waiters and the newest revision this process has heard of."""

    def __init__(self) -> None:
        self._waiters: defaultdict[str, set[asyncio.Future[int]]] = defaultdict(set)
        self.latest: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def parked(self) -> int:
        return sum(len(w) for w in self._waiters.values())

    def notify(self, site_id: str, revision: int) -> None:
        """Call on the event loop: wakes every poll of `site_id`."""
        if revision <= self.latest.get(site_id, 0):
            return
        self.latest[site_id] = revision
        for waiter in self._waiters.pop(site_id, ()):
            if not waiter.done():
                waiter.set_result(revision)

    def notify_threadsafe(self, changes: dict[str, int]) -> None:
        """Call from any thread (a committed northbound transaction)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for site_id, revision in changes.items():
            loop.call_soon_threadsafe(self.notify, site_id, revision)

    async def wait(self, site_id: str, known: int, hold: float) -> int | None:
        """The new revision once it passes `known`, or None after `hold` seconds."""
        latest = self.latest.get(site_id, 0)
        if latest > known:
            return latest
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters[site_id].add(waiter)
        try:
            return await asyncio.wait_for(waiter, hold)
        except TimeoutError:
            return None
        finally:
            waiters = self._waiters.get(site_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[site_id]
