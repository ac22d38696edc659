"""PostgreSQL LISTEN/NOTIFY between central replicas: "these sites have new revisions" and
"these sites' credentials changed". The notification rides in the writing transaction, so a
replica hears of exactly what was committed; a replica that was not listening for a while
drops its caches instead of trusting them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
CHANNEL = "edgewise_sites"
MAX_PAYLOAD = 7900  # PostgreSQL's limit is 8000 bytes


def payloads(kind: str, entries: Iterable[str]) -> Iterator[str]:
    """`kind entry,entry,...` messages, each under the payload limit."""
    chunk: list[str] = []
    size = len(kind) + 1
    for entry in entries:
        if chunk and size + len(entry) + 1 > MAX_PAYLOAD:
            yield f"{kind} {','.join(chunk)}"
            chunk, size = [], len(kind) + 1
        chunk.append(entry)
        size += len(entry) + 1
    if chunk:
        yield f"{kind} {','.join(chunk)}"


def publish(session: Session, revisions: dict[str, int], sites: set[str]) -> None:
    """Queues the notifications in the session's transaction (sent by PostgreSQL at commit)."""
    messages = [
        *payloads("r", (f"{site}:{rev}" for site, rev in revisions.items())),
        *payloads("s", sites),
    ]
    for message in messages:
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": message}
        )


Revisions = Callable[[dict[str, int]], None]
Sites = Callable[[set[str]], None]


class Listener:
    """A thread that LISTENs and hands what it hears to the callbacks (from its own thread)."""

    def __init__(
        self,
        engine: Engine,
        *,
        on_revisions: Revisions,
        on_sites: Sites,
        on_gap: Callable[[], None],
    ) -> None:
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._on_revisions = on_revisions
        self._on_sites = on_sites
        self._on_gap = on_gap
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-listener", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            log.warning("the PostgreSQL listener is not connected yet; it keeps trying")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        delay = 0.5
        first = True
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    if not first:
                        self._on_gap()  # what was said while we were away is unknown
                    first = False
                    self._ready.set()
                    delay = 0.5
                    while not self._stop.is_set():
                        for note in connection.notifies(timeout=1.0):
                            self._deliver(note.payload)
            except psycopg.Error as exc:
                log.warning("PostgreSQL listener: %s; reconnecting in %.1f s", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def _deliver(self, payload: str) -> None:
        kind, _, body = payload.partition(" ")
        entries = [e for e in body.split(",") if e]
        if kind == "r":
            revisions: dict[str, int] = {}
            for entry in entries:
                site, _, revision = entry.rpartition(":")
                if site and revision.isdigit():
                    revisions[site] = int(revision)
            self._on_revisions(revisions)
        elif kind == "s":
            self._on_sites(set(entries))
        else:
            log.warning("ignored an unknown notification %r", payload[:80])
