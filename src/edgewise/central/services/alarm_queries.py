"""Alarms for the SOL005 fault API and the CLI (`api.nsfm`): listing, reading and
acknowledging, each scoped to what the caller may see (`services.access`). Raising, changing
and clearing them is the alarm engine's (`services.alarms`)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from edgewise.central.services import fault_notifications
from edgewise.central.services.access import Principal, ensure_writable, get_visible, visible
from edgewise.central.services.alarm_queries_view import Alarm, alarms_of
from edgewise.central.services.alarm_terms import AckState
from edgewise.central.services.errors import Conflict
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.tables import utcnow


def list_alarms(
    session: Session,
    principal: Principal,
    *,
    active: bool | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[Alarm]:
    """The alarms `principal` sees, by id: an operator every alarm, a tenant its own; only the
    active ones (or only the cleared ones) when `active` says so; those after the id `after`,
    at most `limit` of them (a page read in the store, not in memory)."""
    query = select(AlarmRow).where(visible(principal, AlarmRow))
    if active is not None:
        query = query.where(
            AlarmRow.cleared_at.is_(None) if active else AlarmRow.cleared_at.is_not(None)
        )
    if after is not None:
        query = query.where(AlarmRow.id > after)
    query = query.order_by(AlarmRow.id)
    rows = list(session.scalars(query if limit is None else query.limit(limit)))
    return _seen(session, principal, alarms_of(session, rows))


def read_alarm(session: Session, principal: Principal, alarm_id: str) -> Alarm:
    row = get_visible(session, AlarmRow, alarm_id, principal, what="alarm")
    return _seen(session, principal, alarms_of(session, [row]))[0]


def _seen(session: Session, principal: Principal, alarms: list[Alarm]) -> list[Alarm]:
    """The alarms with only the correlated alarms `principal` sees (a tenant's VNF alarm may
    have the operator's alarm as its root: its id is not the tenant's to know)."""
    if principal.is_admin:
        return alarms
    named = sorted({other for alarm in alarms for other in alarm.correlated})
    seen: set[str] = set()
    for start in range(0, len(named), 500):  # bounded IN lists
        seen.update(session.scalars(
            select(AlarmRow.id).where(
                AlarmRow.id.in_(named[start : start + 500]), visible(principal, AlarmRow)
            )
        ))  # fmt: skip
    return [
        alarm
        if seen.issuperset(alarm.correlated)
        else replace(alarm, correlated=tuple(c for c in alarm.correlated if c in seen))
        for alarm in alarms
    ]


def acknowledge(session: Session, principal: Principal, alarm_id: str) -> Alarm:
    """Acknowledges the alarm (SOL005 AlarmModifications); Conflict when it already is. One
    conditional update, so of two callers acknowledging at once one gets the conflict. Its
    subscribers hear of it (AlarmNotification)."""
    row = get_visible(session, AlarmRow, alarm_id, principal, what="alarm")
    ensure_writable(principal, row, what="alarm")
    changed = session.execute(
        update(AlarmRow)
        .where(AlarmRow.id == alarm_id, AlarmRow.ack_state == AckState.UNACKNOWLEDGED.value)
        .values(ack_state=AckState.ACKNOWLEDGED.value, acknowledged_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 0) != 1:
        raise Conflict(f"alarm {alarm_id} is already acknowledged")
    session.refresh(row)
    fault_notifications.alarm_changed(session, row)
    return _seen(session, principal, alarms_of(session, [row]))[0]
