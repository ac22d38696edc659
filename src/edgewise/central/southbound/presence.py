"""Who may call, and who was heard from: the per-request checks of the channel, kept cheap.

`SiteAuthCache` answers "is this certificate still the site's own?" from memory; every
commit that enrolls, revokes or deletes a site invalidates its entry, so revocation is
still immediate. `LastSeen` gathers "heard from" marks and writes them every few seconds
in one transaction instead of one write per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.services import enrollment, site_channel
from edgewise.central.store.tables import SiteRow, utcnow

log = logging.getLogger(__name__)


class SiteAuthCache:
    """site id -> its current certificate serial, or None when it may not call (revoked)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._serials: dict[str, str | None] = {}
        self._generation: dict[str, int] = {}

    def invalidate(self, site_ids: Iterable[str]) -> None:
        """Called by the commit hook (any thread); a load racing with it does not win."""
        for site_id in site_ids:
            self._generation[site_id] = self._generation.get(site_id, 0) + 1
            self._serials.pop(site_id, None)

    def clear(self) -> None:
        self.invalidate(list(self._serials))

    async def authorize(self, site_id: str, serial: str) -> None:
        """Raises the service error of `enrollment.authorize` when the call must be refused."""
        if site_id in self._serials and self._serials[site_id] == serial:
            return
        await asyncio.to_thread(self._load, site_id, serial)

    def _load(self, site_id: str, serial: str) -> None:
        generation = self._generation.get(site_id, 0)
        with self._sessions() as session:
            site: SiteRow | None = session.get(SiteRow, site_id)
            current = site.cert_serial if site is not None and site.revoked_at is None else None
            if self._generation.get(site_id, 0) == generation:
                self._serials[site_id] = current
            enrollment.authorize(session, site_id, serial)


class LastSeen:
    """Collects the sites heard from, with when, and records them every `interval` seconds.
    A mark carries the time the site was heard (to the second, rounded down), not the time it
    is written: a write that waits or is retried never makes a site that went silent look heard
    from later (which would clear its SITE_OFFLINE alarm and raise it again)."""

    def __init__(self, sessions: sessionmaker[Session], interval: float = 5.0) -> None:
        self._sessions = sessions
        self._interval = interval
        self._pending: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def saw(self, site_id: str, at: datetime | None = None) -> None:
        self._pending[site_id] = (at or utcnow()).replace(microsecond=0)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="last-seen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def flush(self) -> None:
        batch, self._pending = self._pending, {}
        if batch:
            try:
                await asyncio.to_thread(self._write, batch)
            except Exception as exc:  # noqa: BLE001 - a missed mark is retried next time
                log.warning("recording %d last-seen marks failed: %s", len(batch), exc)
                for site_id, at in batch.items():  # a newer mark taken meanwhile stays
                    self._pending[site_id] = max(at, self._pending.get(site_id, at))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    def _write(self, marks: dict[str, datetime]) -> None:
        by_time: dict[datetime, list[str]] = {}
        for site_id, at in marks.items():
            by_time.setdefault(at, []).append(site_id)
        with self._sessions.begin() as session:
            for at in sorted(by_time):  # a few seconds' worth: a statement or two each
                site_channel.touch(session, by_time[at], at)
