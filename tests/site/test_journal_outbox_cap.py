"""The outbox cap: a site cut off for long keeps its latest status and says what it dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edgewise.site.journal import DROPPED_EVENT, Journal


def shown(journal: Journal) -> list[tuple[str, Any]]:
    """The pending items as (kind, what): the status revision, the event name, the counter n."""
    out: list[tuple[str, Any]] = []
    for item in journal.pending(1000):
        body = item.body
        what = body.get("revision", body.get("event", body.get("n")))
        if body.get("event") == DROPPED_EVENT:
            what = (DROPPED_EVENT, body["dropped"])
        out.append((item.kind, what))
    return out


def test_under_the_cap_nothing_is_dropped(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db", outbox_limit=5) as journal:
        for n in range(5):
            journal.enqueue("counters", {"n": n})
        assert journal.pending_count() == 5
        assert all(kind == "counters" for kind, _ in shown(journal))


def test_oldest_counters_and_events_go_first_and_the_drop_is_counted(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db", outbox_limit=5) as journal:
        journal.enqueue("status", {"revision": 1})
        journal.enqueue("event", {"event": "controller-started"})
        journal.enqueue("counters", {"n": 1})
        journal.enqueue("status", {"revision": 2})
        journal.enqueue("counters", {"n": 2})
        assert journal.pending_count() == 5
        journal.enqueue("counters", {"n": 3})  # over: the event and counter 1 make room
        assert shown(journal) == [
            ("status", 1), ("status", 2), ("counters", 2), ("counters", 3),
            ("event", (DROPPED_EVENT, 2)),
        ]  # fmt: skip
        journal.enqueue("counters", {"n": 4})  # the same pending count grows, re-issued
        assert shown(journal) == [
            ("status", 1), ("status", 2), ("counters", 3), ("counters", 4),
            ("event", (DROPPED_EVENT, 3)),
        ]  # fmt: skip
        journal.enqueue("status", {"revision": 3})  # statuses outrank counters
        assert shown(journal) == [
            ("status", 1), ("status", 2), ("counters", 4), ("status", 3),
            ("event", (DROPPED_EVENT, 4)),
        ]  # fmt: skip


def test_superseded_statuses_go_when_nothing_else_is_left(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db", outbox_limit=4) as journal:
        for revision in range(1, 6):
            journal.enqueue("status", {"revision": revision})
        assert shown(journal) == [("status", 3), ("status", 4), ("status", 5),
                                  ("event", (DROPPED_EVENT, 2))]  # fmt: skip


def test_the_latest_status_is_never_dropped(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.db", outbox_limit=3) as journal:
        for revision in range(1, 20):
            journal.enqueue("status", {"revision": revision})
        journal.enqueue("counters", {"n": 1})
        journal.enqueue("counters", {"n": 2})
        items = shown(journal)
        assert ("status", 19) in items
        assert len(items) == 3
        assert items[-1][0] == "event"


def test_a_sent_count_starts_a_new_episode(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Journal.open(path, outbox_limit=3) as journal:
        for n in range(4):
            journal.enqueue("counters", {"n": n})
        (first,) = [i for i in journal.pending() if i.kind == "event"]
        journal.mark_sent(i.id for i in journal.pending())
    with Journal.open(path, outbox_limit=3) as journal:  # a restart in between
        for n in range(4, 8):
            journal.enqueue("counters", {"n": n})
        (second,) = [i for i in journal.pending() if i.kind == "event"]
    assert first.body["dropped"] == 2
    assert second.body["dropped"] == 2
    assert second.body["since"] >= first.body["since"]
    assert second.id != first.id


def test_a_cap_too_small_to_work_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outbox_limit"):
        Journal.open(tmp_path / "j.db", outbox_limit=2)
