"""Wakes parked long-polls when a site's revision changes (here, or in another replica).

It also remembers each site's newest revision and, when this process wrote it, the
document itself, so that a wave of woken polls is answered without reading the store.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

Document = dict[str, Any]


class RevisionHub:
    """Per-site waiters and the newest revision (and document, if known) of each site."""

    def __init__(self) -> None:
        self._waiters: defaultdict[str, set[asyncio.Future[int]]] = defaultdict(set)
        self._latest: dict[str, tuple[int, Document | None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def parked(self) -> int:
        return sum(len(w) for w in self._waiters.values())

    def cached(self, site_id: str) -> tuple[int, Document | None] | None:
        return self._latest.get(site_id)

    def remember(self, site_id: str, revision: int, document: Document | None) -> None:
        """Records what the store said, unless something newer is already known."""
        known = self._latest.get(site_id)
        if known is None or known[0] < revision:
            self._latest[site_id] = (revision, document)

    def notify(self, changes: Mapping[str, tuple[int, Document | None]]) -> None:
        """Call on the event loop: records new revisions and wakes their sites' polls."""
        for site_id, (revision, document) in changes.items():
            known = self._latest.get(site_id)
            if known is not None and known[0] >= revision:
                continue
            self._latest[site_id] = (revision, document)
            for waiter in self._waiters.pop(site_id, ()):
                if not waiter.done():
                    waiter.set_result(revision)

    def forget_documents_threadsafe(self) -> None:
        """After a gap in what other replicas told us: re-read every site from the store."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._latest.clear)

    def notify_threadsafe(self, changes: Mapping[str, tuple[int, Document | None]]) -> None:
        """Call from any thread (a committed transaction): one hop onto the loop per commit."""
        loop = self._loop
        if loop is None or loop.is_closed() or not changes:
            return
        loop.call_soon_threadsafe(self.notify, dict(changes))

    async def wait(self, site_id: str, known: int, hold: float) -> int | None:
        """The new revision once it passes `known`, or None after `hold` seconds."""
        latest = self._latest.get(site_id)
        if latest is not None and latest[0] > known:
            return latest[0]
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
