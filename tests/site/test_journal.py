"""The journal: durable across a reopen, the outbox survives restarts, sent items are pruned."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from edgewise.site.journal import Journal, SiteIdentity


def test_a_fresh_journal_is_empty(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db") as journal:
        assert journal.identity() is None
        assert journal.desired() is None
        assert (journal.received_revision(), journal.applied_revision()) == (0, 0)
        assert journal.pending() == []


def test_everything_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "site" / "j.db"
    identity = SiteIdentity(
        "site-1", "https://c:8443/", tmp_path / "k", tmp_path / "c", tmp_path / "a"
    )
    with Journal.open(path) as journal:
        journal.save_identity(identity)
        journal.store_desired(7, {"services": [], "later": {"x": [1, 2]}})
        journal.mark_received(8)
        journal.mark_applied(7)
        item = journal.enqueue("status", {"revision": 7})
    with Journal.open(path) as journal:
        assert journal.identity() == identity
        stored = journal.desired()
        assert stored is not None
        assert (stored.revision, stored.document) == (7, {"services": [], "later": {"x": [1, 2]}})
        assert (journal.received_revision(), journal.applied_revision()) == (8, 7)
        assert journal.pending() == [item]
        assert journal.path == path


def test_the_outbox_keeps_order_and_marks_sent(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Journal.open(path) as journal:
        items = [journal.enqueue("event", {"n": n}) for n in range(5)]
        assert journal.pending(limit=3) == items[:3]
        journal.mark_sent([items[0].id, items[2].id])
        assert journal.pending() == [items[1], items[3], items[4]]
        assert journal.pending_count() == 3
    with Journal.open(path) as journal:  # a restart: still pending
        assert [i.body["n"] for i in journal.pending()] == [1, 3, 4]
        journal.mark_sent(i.id for i in journal.pending())
        assert journal.prune_sent(keep=1) == 4
        assert journal.prune_sent() == 1
        assert journal.pending() == []


def test_an_item_is_a_channel_report(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db") as journal:
        wire = journal.enqueue("event", {"event": "vnf-repaired"}).to_wire()
    assert set(wire) == {"id", "kind", "at", "body"}
    assert wire["at"].endswith("Z")
    assert len(wire["id"]) == 36


def test_the_journal_is_in_wal_mode(tmp_path: Path) -> None:
    Journal.open(tmp_path / "j.db").close()
    connection = sqlite3.connect(tmp_path / "j.db")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


def test_a_killed_writer_loses_nothing_it_committed(tmp_path: Path) -> None:
    """A child process writes, then dies by SIGKILL-like `os._exit` without closing anything."""
    path = tmp_path / "j.db"
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from edgewise.site.journal import Journal\n"
        "j = Journal.open(Path(sys.argv[1]))\n"
        "j.store_desired(3, {'services': []})\n"
        "for n in range(50): j.enqueue('event', {'n': n})\n"
        "os._exit(9)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], check=False, timeout=30)
    assert done.returncode == 9
    with Journal.open(path) as journal:
        stored = journal.desired()
        assert stored is not None
        assert stored.revision == 3
        assert journal.pending_count() == 50


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "j.db")
    connection.execute("PRAGMA user_version=99")
    connection.close()
    with pytest.raises(sqlite3.DatabaseError, match="newer"):
        Journal.open(tmp_path / "j.db")
