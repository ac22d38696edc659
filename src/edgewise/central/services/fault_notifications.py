"""NS fault management notifications (SOL005 `nsfm/v1`): what an FmSubscription's filter may say,
and the calls the alarm engine (`services.alarms`) makes in the transaction that raises, changes
or clears an alarm; the shared outbox (`services.outbox`) delivers.

An alarm is heard by the provider's subscriptions and by those of the alarm's tenant
(`subscriptions.audience`), when the filter matches: its notification type, the faulty
resource's type, the alarm's severity, event type and probable cause, and — for an alarm about
an NS instance — the NS instance (an alarm about a site or an overlay matches no filter that
names NS instances). AlarmListRebuiltNotification goes to every subscription that takes it,
whatever its tenant: the engine sends it after it rebuilt the active alarms (at the central's
start), so that subscribers read the list again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services import outbox, subscriptions
from edgewise.central.services.alarm_queries_view import (
    Alarm,
    alarm_document,
    alarms_of,
    rfc3339,
)
from edgewise.central.services.alarm_terms import EventType, ManagedObject, Severity
from edgewise.central.services.subscriptions import Api, record, strings, wanted
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.tables import NsInstanceRow

ALARM: Final = "AlarmNotification"
CLEARED: Final = "AlarmClearedNotification"
REBUILT: Final = "AlarmListRebuiltNotification"
NOTIFICATION_TYPES: Final = (ALARM, CLEARED, REBUILT)
RESOURCE_TYPE_NAMES: Final = ("COMPUTE", "STORAGE", "NETWORK")
INSTANCE_KEYS: Final = ("nsdIds", "nsInstanceIds", "nsInstanceNames")
INSTANCES_REFUSED: Final = {
    key: f"Edgewise matches NS instances by {', '.join(INSTANCE_KEYS)}"
    for key in ("vnfdIds", "pnfdIds")
}
FILTER: Final = record(
    {
        "nsInstanceSubscriptionFilter": record(
            dict.fromkeys(INSTANCE_KEYS, strings()), refused=INSTANCES_REFUSED
        ),
        "notificationTypes": strings(NOTIFICATION_TYPES),
        "faultyResourceTypes": strings(RESOURCE_TYPE_NAMES),
        "perceivedSeverities": strings([s.value for s in Severity]),
        "eventTypes": strings([e.value for e in EventType]),
        "probableCauses": strings(),
    }
)
ALARMS_PATH: Final = "/nsfm/v1/alarms"


def validate_filter(value: Mapping[str, Any]) -> dict[str, Any]:
    """The FmNotificationsFilter if Edgewise can apply it, else Invalid naming every unusable
    part."""
    return subscriptions.check_filter(value, FILTER)


def matches(
    filter_: Mapping[str, Any], alarm: Alarm, ns: NsInstanceRow | None, notification_type: str
) -> bool:
    """SOL005 filter semantics: every attribute given must match; in a list, any value."""
    if not wanted(filter_, "notificationTypes", notification_type):
        return False
    checks = (
        ("faultyResourceTypes", alarm.resource_type),
        ("perceivedSeverities", alarm.severity),
        ("eventTypes", alarm.event_type),
        ("probableCauses", alarm.probable_cause),
    )
    if not all(wanted(filter_, key, value) for key, value in checks):
        return False
    instances = filter_.get("nsInstanceSubscriptionFilter") or {}
    named = (
        ("nsdIds", ns.nsd_id if ns else None),
        ("nsInstanceIds", ns.id if ns else None),
        ("nsInstanceNames", ns.name if ns else None),
    )
    return all(wanted(instances, key, value) for key, value in named)


def alarm_raised(session: Session, alarm: AlarmRow) -> None:
    """An alarm was raised: AlarmNotification to the subscriptions that see it."""
    _emit(session, alarm, ALARM)


def alarm_changed(session: Session, alarm: AlarmRow) -> None:
    """An active alarm changed (severity, correlation, details, acknowledgement):
    AlarmNotification again."""
    _emit(session, alarm, ALARM)


def alarm_cleared(session: Session, alarm: AlarmRow) -> None:
    """An alarm was cleared: AlarmClearedNotification."""
    _emit(session, alarm, CLEARED)


def alarm_list_rebuilt(session: Session) -> None:
    """The central rebuilt its alarm list: AlarmListRebuiltNotification to every subscription
    that takes it."""
    hearing = [
        subscription
        for subscription in subscriptions.audience(session, Api.NSFM, None, shared_rows=True)
        if wanted(subscription.filter, "notificationTypes", REBUILT)
    ]
    outbox.queue(session, hearing, REBUILT, {"_links": {"alarms": {"href": ALARMS_PATH}}})


def _emit(session: Session, row: AlarmRow, notification_type: str) -> int:
    session.flush()  # the engine's changes, and a new alarm's id
    audience = subscriptions.audience(session, Api.NSFM, row.tenant_id, shared_rows=False)
    if not audience:
        return 0
    alarm = alarms_of(session, [row])[0]
    ns = (
        session.get(NsInstanceRow, row.managed_object_id)
        if row.managed_object_type == ManagedObject.NS
        else None
    )
    hearing = [s for s in audience if matches(s.filter, alarm, ns, notification_type)]
    providers = [s for s in hearing if s.tenant_id is None]
    tenants = [s for s in hearing if s.tenant_id is not None]
    queued = outbox.queue(session, providers, notification_type, body(alarm, notification_type))
    if tenants:  # told only of correlated alarms of their own tenant
        theirs = _tenants_own(session, alarm)
        queued += outbox.queue(session, tenants, notification_type, body(theirs, notification_type))
    return queued


def _tenants_own(session: Session, alarm: Alarm) -> Alarm:
    """The alarm with only the correlated alarms of its own tenant (a tenant's VNF alarm may
    have the operator's alarm as its root: its id is not the tenant's to know)."""
    own: set[str] = set()
    for start in range(0, len(alarm.correlated), 500):  # bounded IN lists
        own.update(session.scalars(
            select(AlarmRow.id).where(
                AlarmRow.id.in_(alarm.correlated[start : start + 500]),
                AlarmRow.tenant_id == alarm.tenant_id,
            )
        ))  # fmt: skip
    return replace(alarm, correlated=tuple(c for c in alarm.correlated if c in own))


def body(alarm: Alarm, notification_type: str) -> dict[str, Any]:
    """What SOL005 says each notification carries besides what every one does (the outbox
    adds id, type, subscription, time and the subscription's link); links are relative."""
    link = {"alarm": {"href": f"{ALARMS_PATH}/{alarm.id}"}}
    if notification_type == CLEARED:
        cleared = alarm.cleared_at or alarm.changed_at or alarm.raised_at
        return {"alarmId": alarm.id, "alarmClearedTime": rfc3339(cleared), "_links": link}
    document: dict[str, Any] = {"alarm": alarm_document(alarm, "/"), "_links": link}
    if alarm.cleared_at is not None:
        document["alarmClearedTime"] = rfc3339(alarm.cleared_at)
    return document
