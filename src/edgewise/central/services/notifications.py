"""NS life-cycle change notifications (SOL005): subscriptions, and a durable outbox.

What happens to an NS instance writes, in the same transaction, one notification per matching
subscription (`emit`). A deliverer on every replica (`CentralRuntime.deliver_notifications`)
takes due ones (`claim`), POSTs them to the callback, and records the outcome: delivered, or
retried later with exponential backoff, up to `MAX_ATTEMPTS`, then GAVE_UP. Delivery never
holds an operation back, and a central restart loses none (at least once; each notification
carries its own `id` for the subscriber to drop repeats).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from edgewise.central.services import announce
from edgewise.central.services.access import (
    Principal,
    ensure_writable,
    get_visible,
    owner_for_new,
    visible,
)
from edgewise.central.services.errors import InputProblem, Invalid
from edgewise.central.store.tables import (
    LccnSubscriptionRow,
    NotificationRow,
    NsInstanceRow,
    new_id,
    utcnow,
)

OPERATION_OCCURRENCE: Final = "NsLcmOperationOccurrenceNotification"
IDENTIFIER_CREATION: Final = "NsIdentifierCreationNotification"
IDENTIFIER_DELETION: Final = "NsIdentifierDeletionNotification"
NOTIFICATION_TYPES: Final = (OPERATION_OCCURRENCE, IDENTIFIER_CREATION, IDENTIFIER_DELETION)
OPERATION_TYPES: Final = ("INSTANTIATE", "SCALE", "UPDATE", "TERMINATE", "HEAL")
OPERATION_STATES: Final = (
    "PROCESSING", "COMPLETED", "FAILED_TEMP", "FAILED", "ROLLING_BACK", "ROLLED_BACK",
)  # fmt: skip
INSTANCE_KEYS: Final = ("nsdIds", "nsInstanceIds", "nsInstanceNames")
MAX_ATTEMPTS: Final = 10
FIRST_RETRY: Final = timedelta(seconds=1)
LONGEST_RETRY: Final = timedelta(minutes=5)
CLAIM_LEASE: Final = timedelta(seconds=30)
SUBS_KEY: Final = "edgewise.lccn-subscriptions"


# subscriptions


def create_subscription(
    session: Session,
    principal: Principal,
    *,
    callback_uri: str,
    filter_: Mapping[str, Any],
    authentication: Mapping[str, Any] | None,
    tenant_id: str | None = None,
) -> tuple[LccnSubscriptionRow, bool]:
    """The subscription, and False when the same one (callback and filter) already existed."""
    checked = validate_filter(filter_)
    owner = owner_for_new(principal, tenant_id, shared_allowed=True)
    for row in session.scalars(
        select(LccnSubscriptionRow).where(
            LccnSubscriptionRow.callback_uri == callback_uri,
            LccnSubscriptionRow.tenant_id.is_(None)
            if owner is None
            else LccnSubscriptionRow.tenant_id == owner,
        )
    ):
        if row.filter == checked:
            return row, False
    row = LccnSubscriptionRow(
        tenant_id=owner,
        callback_uri=callback_uri,
        filter=checked,
        authentication=dict(authentication) if authentication else None,
    )
    session.add(row)
    session.flush()
    session.info.pop(SUBS_KEY, None)
    return row, True


def get_subscription(session: Session, principal: Principal, sub_id: str) -> LccnSubscriptionRow:
    return get_visible(session, LccnSubscriptionRow, sub_id, principal, what="subscription")


def list_subscriptions(session: Session, principal: Principal) -> Sequence[LccnSubscriptionRow]:
    query = select(LccnSubscriptionRow).where(visible(principal, LccnSubscriptionRow))
    return session.scalars(query.order_by(LccnSubscriptionRow.id)).all()


def delete_subscription(session: Session, principal: Principal, sub_id: str) -> None:
    row = get_subscription(session, principal, sub_id)
    ensure_writable(principal, row, what="subscription")
    session.delete(row)


def validate_filter(value: Mapping[str, Any]) -> dict[str, Any]:
    """The filter if Edgewise can apply it, else Invalid naming every unusable part."""
    problems: list[InputProblem] = []
    allowed = {
        "notificationTypes": NOTIFICATION_TYPES,
        "operationTypes": OPERATION_TYPES,
        "operationStates": OPERATION_STATES,
    }
    for key, item in value.items():
        where = f"filter.{key}"
        if key in allowed:
            _check_strings(item, where, allowed[key], problems)
        elif key == "nsInstanceSubscriptionFilter":
            if not isinstance(item, Mapping):
                problems.append(InputProblem(where, "expected an object"))
                continue
            for inner, values in item.items():
                if inner in INSTANCE_KEYS:
                    _check_strings(values, f"{where}.{inner}", None, problems)
                else:
                    problems.append(
                        InputProblem(
                            f"{where}.{inner}", "not supported; use " + ", ".join(INSTANCE_KEYS)
                        )
                    )
        else:
            problems.append(InputProblem(where, "unknown filter attribute"))
    if problems:
        raise Invalid("the subscription filter is not valid", problems)
    return dict(value)


def _check_strings(
    value: object, where: str, choices: Sequence[str] | None, problems: list[InputProblem]
) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(InputProblem(where, "expected an array of strings"))
        return
    for index, item in enumerate(value):
        if choices is not None and item not in choices:
            problems.append(
                InputProblem(f"{where}[{index}]", f"{item!r} is not one of {', '.join(choices)}")
            )


def matches(
    filter_: Mapping[str, Any],
    ns: NsInstanceRow,
    notification_type: str,
    operation: str | None = None,
    state: str | None = None,
) -> bool:
    """SOL005 filter semantics: every attribute given must match; in a list, any value."""
    for key, value in (
        ("notificationTypes", notification_type),
        ("operationTypes", operation),
        ("operationStates", state),
    ):
        wanted = filter_.get(key)
        if wanted and value is not None and value not in wanted:
            return False
    instances = filter_.get("nsInstanceSubscriptionFilter") or {}
    checks = (("nsdIds", ns.nsd_id), ("nsInstanceIds", ns.id), ("nsInstanceNames", ns.name))
    return all(not instances.get(key) or value in instances[key] for key, value in checks)


# the outbox


def emit(
    session: Session,
    ns: NsInstanceRow,
    notification_type: str,
    body: Mapping[str, Any],
    *,
    operation: str | None = None,
    state: str | None = None,
) -> int:
    """Queues `body` for every subscription that sees `ns` and whose filter matches."""
    now = utcnow()
    queued = 0
    for sub in _subscriptions(session, ns.tenant_id):
        if not matches(sub.filter, ns, notification_type, operation, state):
            continue
        notification_id = new_id()
        links = dict(body.get("_links", {}))
        links["subscription"] = {"href": f"/nslcm/v1/subscriptions/{sub.id}"}
        session.add(
            NotificationRow(
                id=notification_id,
                subscription_id=sub.id,
                body=dict(body)
                | {
                    "id": notification_id,
                    "notificationType": notification_type,
                    "subscriptionId": sub.id,
                    "timestamp": _rfc3339(now),
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


def _subscriptions(session: Session, tenant_id: str | None) -> list[LccnSubscriptionRow]:
    """The subscriptions that see `tenant_id`'s NS instances, read once per transaction (a
    rollout's wave emits thousands of notifications)."""
    cache: dict[str | None, list[LccnSubscriptionRow]] = session.info.setdefault(SUBS_KEY, {})
    if tenant_id not in cache:
        owners: ColumnElement[bool] = LccnSubscriptionRow.tenant_id.is_(None)
        if tenant_id is not None:
            owners = or_(owners, LccnSubscriptionRow.tenant_id == tenant_id)
        cache[tenant_id] = list(session.scalars(select(LccnSubscriptionRow).where(owners)))
    return cache[tenant_id]


def claim(session: Session, now: datetime, limit: int = 50) -> list[Delivery]:
    """Due notifications with their callback, leased for `CLAIM_LEASE` so that another replica
    does not send them at the same time (a crashed sender's lease simply runs out)."""
    rows = session.execute(
        select(NotificationRow, LccnSubscriptionRow)
        .join(LccnSubscriptionRow, LccnSubscriptionRow.id == NotificationRow.subscription_id)
        .where(NotificationRow.state == "PENDING", NotificationRow.next_attempt_at <= now)
        .order_by(NotificationRow.next_attempt_at)
        .limit(limit)
    ).all()
    claimed = []
    for row, subscription in rows:
        won = session.execute(  # type: ignore[attr-defined]
            update(NotificationRow)
            .where(NotificationRow.id == row.id, NotificationRow.attempts == row.attempts)
            .values(attempts=row.attempts + 1, next_attempt_at=now + CLAIM_LEASE)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            claimed.append(
                Delivery(row.id, subscription.callback_uri, authorization(subscription), row.body)
            )
    return claimed


def record(session: Session, notification_id: str, error: str | None, now: datetime) -> None:
    """The outcome of one delivery attempt."""
    row = session.get(NotificationRow, notification_id)
    if row is None:
        return
    if error is None:
        row.state = "DELIVERED"
        row.last_error = None
        return
    row.last_error = error[:1024]
    if row.attempts >= MAX_ATTEMPTS:
        row.state = "GAVE_UP"
        return
    delay = min(FIRST_RETRY * 2 ** (row.attempts - 1), LONGEST_RETRY)
    row.next_attempt_at = now + delay


def authorization(subscription: LccnSubscriptionRow) -> dict[str, str]:
    """The headers a callback asked for (SOL005 SubscriptionAuthentication, BASIC)."""
    auth = subscription.authentication or {}
    basic = auth.get("paramsBasic") or {}
    if "BASIC" in (auth.get("authType") or []) and basic.get("userName"):
        token = base64.b64encode(f"{basic['userName']}:{basic.get('password', '')}".encode())
        return {"Authorization": f"Basic {token.decode()}"}
    return {}


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
