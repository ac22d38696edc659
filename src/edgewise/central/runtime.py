"""The central's shared runtime: store, sessions, certificate authority, revision hub, the
parsed NSD models; and the commit hooks that announce what a transaction changed.

One per process, opened by the process root (serve.py); the northbound API, the southbound
channel and the background workers (workers.py) all use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.config import CentralSettings
from edgewise.central.files import private_dir, write_private
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.pki import CertificateAuthority
from edgewise.central.services import announce
from edgewise.central.services.attempts import FailedAttempts
from edgewise.central.services.auth import TokenCache, bootstrap_admin, changes_auth
from edgewise.central.services.credentials import Sealer
from edgewise.central.services.metrics_channel import ChannelCounters
from edgewise.central.southbound.hub import RevisionHub
from edgewise.central.southbound.presence import SiteAuthCache
from edgewise.central.store import notify
from edgewise.central.store.engine import HOLDS_KEY, migrate, open_engine, session_factory
from edgewise.tosca import TypeCache

log = logging.getLogger(__name__)


AUTH_CHANGED = "edgewise.auth-changed"


@dataclass
class CentralRuntime:
    settings: CentralSettings
    engine: Engine
    sessions: sessionmaker[Session]
    authority: CertificateAuthority
    hub: RevisionHub
    auth: SiteAuthCache
    sealer: Sealer  # callback credentials at rest
    tokens: TokenCache = field(default_factory=TokenCache)
    attempts: FailedAttempts = field(default_factory=FailedAttempts)  # failed tokens, by address
    types: TypeCache = field(default_factory=TypeCache)  # parsed TOSCA type files, by digest
    nsds: NsdModels = field(init=False)
    southbound_url: str | None = None
    listener: notify.Listener | None = None
    loop: asyncio.AbstractEventLoop | None = None
    wakeups: dict[str, asyncio.Event] = field(default_factory=dict)
    channel: ChannelCounters = field(default_factory=ChannelCounters)  # GET /metrics reads them

    def __post_init__(self) -> None:
        self.nsds = NsdModels(self.types)

    @classmethod
    def open(cls, settings: CentralSettings) -> CentralRuntime:
        """Opens and migrates the store, loads or creates the CA, creates the first admin."""
        private_dir(settings.data_dir)
        sealer = Sealer(credentials_key(settings))
        engine = open_engine(settings.effective_database_url)
        migrate(engine, sealer.seal)
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
        runtime = cls(settings, engine, sessions, authority, hub, auth, sealer)
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
        """The event loop the channel and the workers run on (the commit hooks wake them from
        any thread); the process root binds it once."""
        self.loop = loop
        self.hub.bind(loop)
        self.wakeups = {kind: asyncio.Event() for kind in (announce.STATUSES,
                                                           announce.NOTIFICATIONS)}  # fmt: skip

    def wake(self, kind: str) -> None:
        if self.loop is not None and kind in self.wakeups:
            self.loop.call_soon_threadsafe(self.wakeups[kind].set)

    async def nap(self, kind: str, interval: float) -> None:
        """Until this replica queues work of `kind`, or `interval` passes (work queued by
        other replicas, deadlines)."""
        woken = self.wakeups[kind]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(woken.wait(), interval)
        woken.clear()

    @staticmethod
    def holds_writer_lock(session: Session) -> bool:
        """Whether the session's connection holds the embedded store's writer lock (its commit
        then waits on I/O: the API ends such a transaction on a worker thread)."""
        return bool(session.connection().info.get(HOLDS_KEY))

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
            path = self.settings.admin_token_file
            write_private(path, issued.secret.encode() + b"\n")
            log.warning("first start: admin token written to %s", path)

    def describe(self) -> dict[str, Any]:
        """What a site (or its installer) needs to know to enroll with this central."""
        return {
            "southboundUrl": self.southbound_url,
            "caFingerprint": self.authority.fingerprint,
            "caCertificate": self.authority.ca_pem,
        }


def credentials_key(settings: CentralSettings) -> bytes:
    """The key sealing callback credentials: the setting, else the data dir's key file (made
    on first start, 0600)."""
    if settings.credentials_key:
        return settings.credentials_key.encode()
    path = settings.credentials_key_file
    if not path.exists():
        write_private(path, Sealer.new_key())
    return path.read_bytes().strip()
