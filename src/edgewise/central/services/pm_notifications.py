"""NS performance management notifications (SOL005 `nspm/v1`): what a PmSubscription's filter
may say, and which subscriptions hear of a report or a threshold crossing. The tracker
(`services.pm_collect`) calls `emit` in the transaction that writes the report or the crossing;
the shared outbox (`services.outbox`) delivers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.orm import Session

from edgewise.central.services import outbox, subscriptions
from edgewise.central.services.subscriptions import Api, record, strings, wanted
from edgewise.central.store.tables import NsInstanceRow

PERFORMANCE_INFORMATION: Final = "PerformanceInformationAvailableNotification"
THRESHOLD_CROSSED: Final = "ThresholdCrossedNotification"
NOTIFICATION_TYPES: Final = (THRESHOLD_CROSSED, PERFORMANCE_INFORMATION)
INSTANCE_KEYS: Final = ("nsdIds", "nsInstanceIds", "nsInstanceNames")
NOT_FILTERED: Final = "Edgewise does not filter PM notifications by the NS's parts' descriptors"
FILTER: Final = record(
    {
        "notificationTypes": strings(NOTIFICATION_TYPES),
        "nsInstanceSubscriptionFilter": record(
            dict.fromkeys(INSTANCE_KEYS, strings()),
            refused={"vnfdIds": NOT_FILTERED, "pnfdIds": NOT_FILTERED},
        ),
    }
)


def validate_filter(value: Mapping[str, Any]) -> dict[str, Any]:
    """The filter if Edgewise can apply it, else Invalid naming every unusable part."""
    return subscriptions.check_filter(value, FILTER)


def matches(filter_: Mapping[str, Any], notification_type: str, ns: NsInstanceRow | None) -> bool:
    """SOL005 filter semantics; an object that is no NS instance (a site) passes no filter
    that names NS instances."""
    if not wanted(filter_, "notificationTypes", notification_type):
        return False
    instances = filter_.get("nsInstanceSubscriptionFilter") or {}
    if ns is None:
        return not any(instances.get(key) for key in INSTANCE_KEYS)
    return all(
        wanted(instances, key, value)
        for key, value in (("nsdIds", ns.nsd_id), ("nsInstanceIds", ns.id),
                           ("nsInstanceNames", ns.name))
    )  # fmt: skip


def emit(
    session: Session,
    tenant_id: str | None,
    notification_type: str,
    body: Mapping[str, Any],
    ns: NsInstanceRow | None,
) -> int:
    """Queues `body` for every PM subscription that sees objects of `tenant_id` and hears it."""
    hearing = [
        subscription
        for subscription in subscriptions.audience(session, Api.NSPM, tenant_id, shared_rows=False)
        if matches(subscription.filter, notification_type, ns)
    ]
    return outbox.queue(session, hearing, notification_type, body)
