"""The site's local journal (one SQLite file): identity, desired state, applied revision, outbox.

The controller writes a desired state here before it uses it, and reports go through the outbox,
so a restarted controller carries on without the central. Each write is one transaction (WAL).
Its files are its owner's alone (0600; `filemodes`).
The outbox is capped (`outbox_limit` unsent items): a site cut off for weeks drops its oldest
counters and events first, never its latest status, and says how many it dropped.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from edgewise.site.filemodes import PRIVATE_DIRECTORY, make_private, private_file

SCHEMA_VERSION = 1
OUTBOX_LIMIT = 10_000  # unsent reports kept; at ~1 KB each, ~10 MB on a site cut off for long
DROPPED_EVENT = "reports-dropped"
SCHEMA = """
CREATE TABLE IF NOT EXISTS identity (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    site_id TEXT NOT NULL, central_url TEXT NOT NULL,
    key_path TEXT NOT NULL, cert_path TEXT NOT NULL, ca_path TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS desired (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    revision INTEGER NOT NULL, document TEXT NOT NULL, stored_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS progress (
    name TEXT PRIMARY KEY, revision INTEGER NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, at TEXT NOT NULL, body TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (sent, seq);
"""


@dataclass(frozen=True)
class SiteIdentity:
    """Who this site is and how it reaches the central (written once, at enrollment)."""

    site_id: str
    central_url: str
    key_path: Path
    cert_path: Path
    ca_path: Path


@dataclass(frozen=True)
class StoredDesired:
    revision: int
    document: Any


@dataclass(frozen=True)
class OutboxItem:
    """One report on its way to the central; `id` makes re-sending harmless."""

    id: str
    kind: str
    at: str
    body: Any

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "at": self.at, "body": self.body}


def utc_stamp(moment: datetime | None = None) -> str:
    """`2026-11-22T10:00:00.123Z`: the channel's timestamps."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_schema_version(connection: sqlite3.Connection, path: Path) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(f"{path}: journal schema {version} is newer than this code")


class Journal:
    """Synchronous on purpose: every call is one small local transaction (well under a
    millisecond with `synchronous=NORMAL`), cheaper to run inline on the event loop than to
    hand to a thread.

    `synchronous="NORMAL"` (the default) survives the process being killed at any point: a
    committed transaction is in the WAL file. `"FULL"` also survives a power cut, at the price
    of an fsync per commit.
    """

    def __init__(
        self, connection: sqlite3.Connection, path: Path, *, outbox_limit: int = OUTBOX_LIMIT
    ) -> None:
        if outbox_limit < 3:
            raise ValueError("outbox_limit must leave room for a status, an event and its count")
        self._db = connection
        self.path = path
        self.outbox_limit = outbox_limit

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        outbox_limit: int = OUTBOX_LIMIT,
    ) -> Journal:
        if outbox_limit < 3:
            raise ValueError("outbox_limit must leave room for a status, an event and its count")
        path.parent.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
        private_file(path)  # SQLite gives its -wal and -shm files the database file's mode
        make_private(*(path.with_name(path.name + end) for end in ("-wal", "-shm", "-journal")))
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA synchronous={synchronous}")
            connection.execute("PRAGMA busy_timeout=5000")
            check_schema_version(connection, path)
            connection.executescript(
                f"BEGIN; {SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )
        except BaseException:
            connection.close()
            raise
        return cls(connection, path, outbox_limit=outbox_limit)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # identity

    def identity(self) -> SiteIdentity | None:
        row = self._db.execute(
            "SELECT site_id, central_url, key_path, cert_path, ca_path FROM identity"
        ).fetchone()
        if row is None:
            return None
        return SiteIdentity(row[0], row[1], Path(row[2]), Path(row[3]), Path(row[4]))

    def save_identity(self, identity: SiteIdentity) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO identity VALUES (1, ?, ?, ?, ?, ?)",
                (
                    identity.site_id,
                    identity.central_url,
                    str(identity.key_path),
                    str(identity.cert_path),
                    str(identity.ca_path),
                ),
            )

    # desired state and progress

    def desired(self) -> StoredDesired | None:
        """The last desired state the controller accepted."""
        row = self._db.execute("SELECT revision, document FROM desired").fetchone()
        return None if row is None else StoredDesired(row[0], json.loads(row[1]))

    def store_desired(self, revision: int, document: Any) -> None:
        """Stores an accepted desired state and notes its revision as received, atomically."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO desired VALUES (1, ?, ?, ?)",
                (revision, json.dumps(document, separators=(",", ":")), utc_stamp()),
            )
            self._set_progress(db, "received", revision)

    def received_revision(self) -> int:
        """The last revision the central sent (accepted or rejected): the one to poll with."""
        return self._progress("received")

    def mark_received(self, revision: int) -> None:
        """Notes a revision that was received but rejected, so the next poll does not refetch it."""
        with self._transaction() as db:
            self._set_progress(db, "received", revision)

    def applied_revision(self) -> int:
        """The last revision fully applied to the data plane (0 for none)."""
        return self._progress("applied")

    def mark_applied(self, revision: int) -> None:
        with self._transaction() as db:
            self._set_progress(db, "applied", revision)

    def _progress(self, name: str) -> int:
        row = self._db.execute("SELECT revision FROM progress WHERE name = ?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    @staticmethod
    def _set_progress(db: sqlite3.Connection, name: str, revision: int) -> None:
        db.execute(
            "INSERT OR REPLACE INTO progress VALUES (?, ?, ?)", (name, revision, utc_stamp())
        )

    # outbox

    def enqueue(
        self, kind: str, body: Mapping[str, Any], *, at: datetime | None = None
    ) -> OutboxItem:
        """Adds a report to the outbox (committed when this returns), within its cap."""
        item = OutboxItem(str(uuid.uuid4()), kind, utc_stamp(at), dict(body))
        with self._transaction() as db:
            _insert(db, item)
            self._cap(db, item.at)
        return item

    def _cap(self, db: sqlite3.Connection, now: str) -> None:
        """Keeps at most `outbox_limit` unsent items: drops the oldest counters and events
        first, then superseded statuses, never the latest status. What was dropped is counted
        in one pending `reports-dropped` event, re-issued (new id) with the running count since
        the episode's first drop (`since`) while it waits; a copy already on its way when that
        happens arrives too, so the central reads the count with the latest `at` per `since`."""
        pending = db.execute("SELECT count(*) FROM outbox WHERE sent = 0").fetchone()[0]
        if pending <= self.outbox_limit:
            return
        marker = db.execute(
            "SELECT seq, body FROM outbox WHERE sent = 0 AND kind = 'event' "
            "AND json_extract(body, '$.event') = ? ORDER BY seq DESC LIMIT 1",
            (DROPPED_EVENT,),
        ).fetchone()
        latest_status = db.execute(
            "SELECT max(seq) FROM outbox WHERE sent = 0 AND kind = 'status'"
        ).fetchone()[0]
        excess = pending - self.outbox_limit + (0 if marker else 1)  # room for the count
        victims = [
            row[0]
            for row in db.execute(
                "SELECT seq FROM outbox WHERE sent = 0 AND seq IS NOT ? AND seq IS NOT ? "
                "ORDER BY kind = 'status', seq LIMIT ?",
                (latest_status, marker[0] if marker else None, excess),
            )
        ]
        db.executemany("DELETE FROM outbox WHERE seq = ?", ((v,) for v in victims))
        counted: dict[str, Any] = json.loads(marker[1]) if marker else {"dropped": 0, "since": now}
        if marker:
            db.execute("DELETE FROM outbox WHERE seq = ?", (marker[0],))
        dropped = {"event": DROPPED_EVENT, "dropped": counted["dropped"] + len(victims),
                   "since": counted["since"],
                   "detail": f"outbox over {self.outbox_limit} unsent reports"}  # fmt: skip
        _insert(db, OutboxItem(str(uuid.uuid4()), "event", now, dropped))

    def pending(self, limit: int = 500) -> list[OutboxItem]:
        """The oldest reports not yet accepted by the central, oldest first."""
        rows = self._db.execute(
            "SELECT id, kind, at, body FROM outbox WHERE sent = 0 ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [OutboxItem(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def pending_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM outbox WHERE sent = 0").fetchone()[0])

    def mark_sent(self, ids: Iterable[str]) -> None:
        with self._transaction() as db:
            db.executemany("UPDATE outbox SET sent = 1 WHERE id = ?", ((i,) for i in ids))

    def prune_sent(self, keep: int = 0) -> int:
        """Deletes sent reports but the `keep` most recent ones; returns how many went."""
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM outbox WHERE sent = 1 AND seq NOT IN "
                "(SELECT seq FROM outbox WHERE sent = 1 ORDER BY seq DESC LIMIT ?)",
                (keep,),
            )
            return cursor.rowcount


def _insert(db: sqlite3.Connection, item: OutboxItem) -> None:
    db.execute(
        "INSERT INTO outbox (id, kind, at, body) VALUES (?, ?, ?, ?)",
        (item.id, item.kind, item.at, json.dumps(item.body, separators=(",", ":"))),
    )
