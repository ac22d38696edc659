"""The notification outbox: what every notification carries, claims that lease a batch in two
statements and never give one row to two replicas, outcomes recorded with backoff."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.services import announce, outbox
from edgewise.central.services.credentials import Sealer
from edgewise.central.store.engine import migrate, open_engine, session_factory
from edgewise.central.store.tables import LccnSubscriptionRow, NotificationRow, utcnow

SEALER = Sealer(Sealer.new_key())

BASIC = {"authType": ["BASIC"], "paramsBasic": {"userName": "u", "password": "p"}}


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]
    statements: list[str] = field(default_factory=list)

    def counting(self) -> list[str]:
        """From now on, every statement sent to the store."""
        self.statements.clear()
        return self.statements

    def queue(self, count: int, api: str = "nslcm") -> list[str]:
        """`count` notifications for one new subscription of `api`, due now."""
        with self.sessions.begin() as session:
            subscription = LccnSubscriptionRow(api=api, callback_uri="http://cb/n",
                                               authentication=BASIC)  # fmt: skip
            session.add(subscription)
            session.flush()
            outbox.queue(session, [subscription] * count, "Note", {"x": 1})
            return list(session.scalars(select(NotificationRow.id)))

    def rows(self) -> dict[str, NotificationRow]:
        with self.sessions() as session:
            return {row.id: row for row in session.scalars(select(NotificationRow))}


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    engine = open_engine(database_url)
    migrate(engine)
    made = Store(engine, session_factory(engine))

    def note(_c: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        made.statements.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", note)
    yield made
    engine.dispose()


def claim(store: Store, now: datetime, limit: int = outbox.CLAIM_BATCH) -> list[outbox.Delivery]:
    with store.sessions.begin() as session:
        return outbox.claim(session, now, SEALER, limit)


def record(store: Store, outcomes: list[tuple[str, str | None]], now: datetime) -> None:
    with store.sessions.begin() as session:
        outbox.record(session, outcomes, now)


@pytest.mark.parametrize(("api", "time_key"), [("nslcm", "timestamp"), ("nsd", "timeStamp"),
                                               ("vnfpkgm", "timeStamp")])  # fmt: skip
def test_every_notification_says_what_it_is_and_links_its_subscription(
    store: Store, api: str, time_key: str
) -> None:
    with store.sessions.begin() as session:
        subscription = LccnSubscriptionRow(api=api, callback_uri="http://cb/n")
        session.add(subscription)
        session.flush()
        body = {"thing": "t", "_links": {"thing": {"href": "/t"}}}
        assert outbox.queue(session, [subscription], "ThingNotification", body) == 1
        assert announce.take_work(session) == {announce.NOTIFICATIONS}
        (queued,) = session.scalars(select(NotificationRow))
    assert queued.body == {
        "thing": "t",
        "id": queued.id,
        "notificationType": "ThingNotification",
        "subscriptionId": subscription.id,
        time_key: queued.body[time_key],
        "_links": {
            "thing": {"href": "/t"},
            "subscription": {"href": f"/{api}/v1/subscriptions/{subscription.id}"},
        },
    }
    assert datetime.fromisoformat(queued.body[time_key]) <= utcnow()


def test_a_claim_leases_a_whole_batch_in_two_statements(store: Store) -> None:
    ids = store.queue(120)
    now = utcnow()
    statements = store.counting()
    taken = claim(store, now)
    assert sorted(d.id for d in taken) == sorted(ids)
    assert [s for s in statements if s in ("SELECT", "UPDATE")] == ["SELECT", "UPDATE"]
    assert {d.callback_uri for d in taken} == {"http://cb/n"}
    assert taken[0].headers == {"Authorization": "Basic dTpw"}
    assert taken[0].body["x"] == 1
    assert claim(store, now) == []  # leased
    assert claim(store, now + outbox.CLAIM_LEASE - timedelta(seconds=1)) == []
    again = claim(store, now + outbox.CLAIM_LEASE, limit=50)
    assert len(again) == 50  # the lease ran out (a crashed sender): taken again
    assert {store.rows()[d.id].attempts for d in again} == {2}


def test_two_replicas_claiming_at_once_never_both_take_a_notification(store: Store) -> None:
    ids = store.queue(30)
    now = utcnow()
    start = threading.Barrier(2)
    taken: list[list[str]] = [[], []]

    def replica(index: int) -> None:
        with store.sessions.begin() as session:
            start.wait()
            taken[index] = [d.id for d in outbox.claim(session, now, SEALER, limit=20)]
            time.sleep(0.2)  # both transactions open at once

    threads = [threading.Thread(target=replica, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    first, second = (set(t) for t in taken)
    assert not first & second
    assert len(first) + len(second) == len(first | second) <= len(ids)
    assert first or second
    assert {row.attempts for row in store.rows().values() if row.id in first | second} == {1}


def test_outcomes_are_recorded_with_backoff_then_given_up(store: Store) -> None:
    store.queue(4)
    now = utcnow()
    taken = [d.id for d in claim(store, now)]
    delivered, failing, late = taken[0:2], taken[2], taken[3]
    statements = store.counting()
    record(store, [(i, None) for i in delivered] + [(failing, "the callback answered 500")], now)
    assert statements.count("UPDATE") == 2  # one for both delivered, one for the failure
    rows = store.rows()
    assert {rows[i].state for i in delivered} == {"DELIVERED"}
    assert (rows[failing].state, rows[failing].last_error) == (
        "PENDING",
        "the callback answered 500",
    )
    assert _same_moment(rows[failing].next_attempt_at, now + outbox.FIRST_RETRY)

    for attempt in range(2, outbox.MAX_ATTEMPTS + 1):
        now = now + outbox.LONGEST_RETRY
        assert [d.id for d in claim(store, now) if d.id == failing] == [failing]
        record(store, [(failing, f"failure {attempt}")], now)
        row = store.rows()[failing]
        if attempt < outbox.MAX_ATTEMPTS:
            delay = min(outbox.FIRST_RETRY * 2 ** (attempt - 1), outbox.LONGEST_RETRY)
            assert (row.state, row.attempts) == ("PENDING", attempt)
            assert _same_moment(row.next_attempt_at, now + delay)
    assert (row.state, row.last_error) == ("GAVE_UP", f"failure {outbox.MAX_ATTEMPTS}")

    record(store, [(late, None)], now)  # delivered by another replica after its lease ran out
    record(store, [(late, "a late failure")], now)
    assert store.rows()[late].state == "DELIVERED"


def test_the_retry_delay_doubles_up_to_its_cap() -> None:
    assert [outbox.retry_delay(n).total_seconds() for n in (1, 2, 3, 9)] == [1, 2, 4, 256]
    assert outbox.retry_delay(20) == outbox.LONGEST_RETRY


def _same_moment(stored: datetime, expected: datetime) -> bool:
    """SQLite hands back naive UTC times."""
    return stored.replace(tzinfo=None) == expected.replace(tzinfo=None)
