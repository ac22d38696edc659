"""Opens the store: SQLite (WAL) by default, PostgreSQL by URL; migrates it to the newest schema."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.files import private_dir, private_file
from edgewise.central.store import (  # noqa: F401 - their tables join Base.metadata
    alarm_tables,
    autoscale_tables,
    pm_tables,
    policy_tables,
    sdwan_tables,
    telemetry_tables,
    web_tables,
)

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


class WriterQueue:
    """One writing transaction at a time in this process, the others queued on a lock.

    SQLite lets one connection write at a time; left alone, the others poll with its busy
    handler, sleeping up to 100 ms between tries, which under load adds seconds to a request.
    A transaction takes the lock at its first write statement and gives it back once it has
    committed or rolled back (or its connection was reset), so waiters go in the moment it is
    free. Other processes on the same file still meet the busy timeout.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def install(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)
        event.listen(engine.pool, "reset", self._reset)

    def _before_execute(self, conn: Connection, _c: Any, statement: str, *_args: Any) -> None:
        if not conn.info.get(HOLDS_KEY) and statement.lstrip()[:7].upper().startswith(WRITES):
            self._lock.acquire()
            conn.info[HOLDS_KEY] = True

    def _commit(self, conn: Connection) -> None:
        if conn.info.get(HOLDS_KEY):
            conn.connection.dbapi_connection.commit()  # type: ignore[union-attr]
            self._release(conn.info)

    def _rollback(self, conn: Connection) -> None:
        if conn.info.get(HOLDS_KEY):
            conn.connection.dbapi_connection.rollback()  # type: ignore[union-attr]
            self._release(conn.info)

    def _reset(self, dbapi_connection: Any, record: Any, reset_state: Any) -> None:
        del reset_state  # whatever the reason, a connection back in the pool writes no more
        if record.info.get(HOLDS_KEY):
            dbapi_connection.rollback()
            self._release(record.info)

    def _release(self, info: dict[Any, Any]) -> None:
        info.pop(HOLDS_KEY, None)
        self._lock.release()


HOLDS_KEY = "edgewise.holds-writer-lock"


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            private_dir(Path(path).parent)
            private_file(Path(path))
        # A connection per API worker thread (40) and per background writer: WAL readers
        # never wait for each other, so a short pool would be the only queue for reads.
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=48, max_overflow=32
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        WriterQueue().install(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


Seal = Callable[[dict[str, Any] | None], dict[str, Any] | None]
"""Seals a subscription's callback credentials (services.credentials; a migration needs it)."""


def migrate(engine: Engine, seal: Seal | None = None) -> None:
    """Brings the schema to the newest Alembic revision (idempotent). A store holding callback
    credentials in clear needs `seal` to move them (migration 0010)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["seal"] = seal
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
