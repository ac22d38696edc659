"""The durable notification outbox shared by every SOL005 API.

A change writes, in its own transaction, one notification per subscription that hears of it
(`queue`). A deliverer on every replica (`central.workers.Workers`) takes due ones
(`claim`), POSTs them to their callbacks, and records the outcomes (`record`): delivered, or
retried later with exponential backoff, up to `MAX_ATTEMPTS`, then GAVE_UP. Delivery never holds
a change back, and a central restart loses none (at least once; each notification carries its
own `id` for the subscriber to drop repeats).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from edgewise.central.services import announce
from edgewise.central.services.credentials import Sealer
from edgewise.central.services.subscriptions import Api, headers_for
from edgewise.central.store.tables import LccnSubscriptionRow, NotificationRow, new_id, utcnow

MAX_ATTEMPTS: Final = 10
FIRST_RETRY: Final = timedelta(seconds=1)
LONGEST_RETRY: Final = timedelta(minutes=5)
CLAIM_LEASE: Final = timedelta(seconds=30)
CLAIM_BATCH: Final = 200
PENDING: Final = "PENDING"


def queue(
    session: Session,
    subscribers: Iterable[LccnSubscriptionRow],
    notification_type: str,
    body: Mapping[str, Any],
) -> int:
    """Queues `body` for each of `subscribers`, with what every SOL005 notification carries:
    its own id, its type, the subscription and the time, and a link to the subscription."""
    now = utcnow()
    queued = 0
    for subscription in subscribers:
        api = Api(subscription.api)
        notification_id = new_id()
        links = dict(body.get("_links", {}))
        links["subscription"] = {"href": api.href(subscription.id)}
        session.add(
            NotificationRow(
                id=notification_id,
                subscription_id=subscription.id,
                body=dict(body)
                | {
                    "id": notification_id,
                    "notificationType": notification_type,
                    "subscriptionId": subscription.id,
                    api.time_key: _rfc3339(now),
                    "_links": links,
                },
                next_attempt_at=now,
            )
        )
        queued += 1
    if queued:
        announce.work_queued(session, announce.NOTIFICATIONS)
    return queued


@dataclass(frozen=True)
class Delivery:
    """One notification to POST: where, with which headers, what."""

    id: str
    callback_uri: str
    headers: dict[str, str]
    body: dict[str, Any]


def claim(
    session: Session, now: datetime, sealer: Sealer, limit: int = CLAIM_BATCH
) -> list[Delivery]:
    """Due notifications with their callbacks, leased for `CLAIM_LEASE` so that no other replica
    sends them meanwhile (a crashed sender's lease simply runs out).

    One read and one conditional update, whatever the batch: the update takes only the rows
    still due, so of two replicas that read the same rows each row goes to one (PostgreSQL
    re-checks the condition once the other's update commits; SQLite writes one at a time),
    and its RETURNING says which. On PostgreSQL the read also skips rows another replica is
    claiming, so replicas take different rows instead of waiting for each other.
    """
    due = session.execute(
        select(
            NotificationRow.id,
            NotificationRow.body,
            LccnSubscriptionRow.callback_uri,
            LccnSubscriptionRow.authentication,
            LccnSubscriptionRow.id.label("subscription_id"),
        )
        .join(LccnSubscriptionRow, LccnSubscriptionRow.id == NotificationRow.subscription_id)
        .where(NotificationRow.state == PENDING, NotificationRow.next_attempt_at <= now)
        .order_by(NotificationRow.next_attempt_at)
        .limit(limit)
        .with_for_update(of=NotificationRow, skip_locked=True)
    ).all()
    if not due:
        return []
    won = set(
        session.scalars(
            update(NotificationRow)
            .where(
                NotificationRow.id.in_([row.id for row in due]),
                NotificationRow.state == PENDING,
                NotificationRow.next_attempt_at <= now,
            )
            .values(attempts=NotificationRow.attempts + 1, next_attempt_at=now + CLAIM_LEASE)
            .returning(NotificationRow.id)
            .execution_options(synchronize_session=False)
        )
    )
    return [
        Delivery(
            row.id,
            row.callback_uri,
            headers_for(sealer.open(row.authentication, owner=row.subscription_id)),
            row.body,
        )
        for row in due
        if row.id in won
    ]


def record(session: Session, outcomes: Sequence[tuple[str, str | None]], now: datetime) -> None:
    """The outcomes of delivery attempts (notification id, None or why it failed): one update
    for all those delivered; each failed one is retried later, or given up after the last try.
    One that was delivered meanwhile (another replica, after a lease ran out) stays delivered."""
    delivered = [notification_id for notification_id, error in outcomes if error is None]
    if delivered:
        session.execute(
            update(NotificationRow)
            .where(NotificationRow.id.in_(delivered))
            .values(state="DELIVERED", last_error=None)
            .execution_options(synchronize_session=False)
        )
    failed = {notification_id: error for notification_id, error in outcomes if error is not None}
    if not failed:
        return
    rows = session.scalars(
        select(NotificationRow).where(
            NotificationRow.id.in_(failed), NotificationRow.state == PENDING
        )
    )
    for row in rows:
        row.last_error = failed[row.id][:1024]
        if row.attempts >= MAX_ATTEMPTS:
            row.state = "GAVE_UP"
        else:
            row.next_attempt_at = now + retry_delay(row.attempts)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling, capped."""
    return min(FIRST_RETRY * (1 << max(attempts - 1, 0)), LONGEST_RETRY)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
