"""The central's shared runtime: store, sessions, certificate authority and revision hub.

One per process; the northbound API and the southbound channel both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.config import CentralSettings
from edgewise.central.pki import CertificateAuthority
from edgewise.central.services import announce, nslcm, outbox, rollouts
from edgewise.central.services.auth import TokenCache, bootstrap_admin, changes_auth
from edgewise.central.southbound.hub import RevisionHub
from edgewise.central.southbound.presence import SiteAuthCache
from edgewise.central.store import notify
from edgewise.central.store.engine import migrate, open_engine, session_factory
from edgewise.central.store.tables import utcnow

log = logging.getLogger(__name__)


AUTH_CHANGED = "edgewise.auth-changed"
TRACKER_PACE = 0.1  # s: at least this long from one tracker pass to the next


@dataclass
class CentralRuntime:
    settings: CentralSettings
    engine: Engine
    sessions: sessionmaker[Session]
    authority: CertificateAuthority
    hub: RevisionHub
    auth: SiteAuthCache
    tokens: TokenCache = field(default_factory=TokenCache)
    southbound_url: str | None = None
    listener: notify.Listener | None = None
    loop: asyncio.AbstractEventLoop | None = None
    wakeups: dict[str, asyncio.Event] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: CentralSettings) -> CentralRuntime:
        """Opens and migrates the store, loads or creates the CA, creates the first admin."""
        engine = open_engine(settings.effective_database_url)
        migrate(engine)
        sessions = session_factory(engine)
        hub = RevisionHub()

        auth = SiteAuthCache(sessions)
        shared_store = engine.dialect.name == "postgresql"

        @event.listens_for(sessions, "before_commit")
        def _tell_replicas(session: Session) -> None:
            if shared_store:
                revisions, sites = announce.peek(session)
                if revisions or sites:
                    notify.publish(session, {s: r for s, (r, _) in revisions.items()}, sites)

        @event.listens_for(sessions, "after_flush")
        def _note_auth_changes(session: Session, _context: object) -> None:
            if changes_auth(session):
                session.info[AUTH_CHANGED] = True

        @event.listens_for(sessions, "after_commit")
        def _announce(session: Session) -> None:
            if session.info.pop(AUTH_CHANGED, False):
                runtime.tokens.clear()
            for kind in announce.take_work(session):
                runtime.wake(kind)
            revisions, sites = announce.take(session)
            if sites:
                auth.invalidate(sites)
            if revisions:
                hub.notify_threadsafe(revisions)

        @event.listens_for(sessions, "after_rollback")
        def _forget(session: Session) -> None:
            announce.forget(session)
            session.info.pop(AUTH_CHANGED, None)

        authority = CertificateAuthority(settings.pki_dir)
        authority.ensure_server_certificate(settings.southbound_hostnames)
        runtime = cls(settings, engine, sessions, authority, hub, auth)
        runtime._first_admin()
        if shared_store:
            runtime.listener = notify.Listener(
                engine,
                on_revisions=lambda revisions: hub.notify_threadsafe(
                    {site: (revision, None) for site, revision in revisions.items()}
                ),
                on_sites=auth.invalidate,
                on_gap=runtime.forget_caches,
            )
            runtime.listener.start()
        return runtime

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop the workers run on (the commit hooks wake them from any thread)."""
        self.loop = loop
        self.hub.bind(loop)
        self.wakeups = {kind: asyncio.Event() for kind in (announce.STATUSES,
                                                           announce.NOTIFICATIONS)}  # fmt: skip

    def wake(self, kind: str) -> None:
        if self.loop is not None and kind in self.wakeups:
            self.loop.call_soon_threadsafe(self.wakeups[kind].set)

    async def _nap(self, kind: str, interval: float) -> None:
        """Until this replica queues work of `kind`, or `interval` passes (work queued by
        other replicas, deadlines)."""
        woken = self.wakeups[kind]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(woken.wait(), interval)
        woken.clear()

    async def track_operations(self, interval: float = 1.0) -> None:
        """Moves NS LCM operations and rollouts on from the sites' reports: when this replica
        records statuses, and at least every `interval` s.

        Every replica runs it; finishing an operation is a conditional update only one wins.
        """
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            steps = ((nslcm.advance, "NS LCM operations"), (rollouts.advance, "rollouts"))
            for step, what in steps:
                try:  # each on its own: a bad pass of one must not hold the other back
                    await asyncio.to_thread(self._advance, step)
                except Exception:  # the tracker outlives a bad pass (store briefly away, ...)
                    log.exception("advancing %s failed", what)
            await self._nap(announce.STATUSES, interval)
            # a pass reads every operation in flight: under a stream of reports, passes are
            # paced so that each one takes in the reports of a while, not of one commit
            await asyncio.sleep(max(0.0, TRACKER_PACE - (loop.time() - began)))

    async def deliver_notifications(self, interval: float = 0.5) -> None:
        """POSTs due notifications to their subscribers, forever; failures are retried later
        with backoff (services.outbox), never holding anything else back."""
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                batch: list[outbox.Delivery] = []
                try:
                    batch = await asyncio.to_thread(self._claim_notifications)
                    if batch:
                        outcomes = await asyncio.gather(*(_post(http, d) for d in batch))
                        await asyncio.to_thread(self._record_notifications, outcomes)
                except Exception:  # the deliverer must outlive a bad pass
                    log.exception("delivering notifications failed")
                if not batch:
                    await self._nap(announce.NOTIFICATIONS, interval)

    def _claim_notifications(self) -> list[outbox.Delivery]:
        with self.sessions.begin() as session:
            return outbox.claim(session, utcnow())

    def _record_notifications(self, outcomes: list[tuple[str, str | None]]) -> None:
        with self.sessions.begin() as session:
            outbox.record(session, outcomes, utcnow())

    def _advance(self, step: Callable[[Session], object]) -> None:
        with self.sessions.begin() as session:
            step(session)

    def forget_caches(self) -> None:
        """Drops what this replica remembers of sites: it re-reads them from the store."""
        self.hub.forget_documents_threadsafe()
        self.auth.clear()
        self.tokens.clear()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        self.engine.dispose()

    def _first_admin(self) -> None:
        """On a new store, creates the admin and writes its token to a 0600 file."""
        with self.sessions.begin() as session:
            issued = bootstrap_admin(session)
            if issued is None:
                return
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            path = self.settings.admin_token_file
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(issued.secret + "\n")
            log.warning("first start: admin token written to %s", path)

    def describe(self) -> dict[str, Any]:
        """What a site (or its installer) needs to know to enroll with this central."""
        return {
            "southboundUrl": self.southbound_url,
            "caFingerprint": self.authority.fingerprint,
            "caCertificate": self.authority.ca_pem,
        }


async def _post(http: aiohttp.ClientSession, delivery: outbox.Delivery) -> tuple[str, str | None]:
    """(notification id, None when the subscriber took it, else why not)."""
    headers = {"Content-Type": "application/json", **delivery.headers}
    try:
        async with http.post(delivery.callback_uri, json=delivery.body, headers=headers) as answer:
            if answer.status == 204 or 200 <= answer.status < 300:
                return delivery.id, None
            return delivery.id, f"the callback answered {answer.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return delivery.id, f"the callback cannot be reached: {exc or type(exc).__name__}"
