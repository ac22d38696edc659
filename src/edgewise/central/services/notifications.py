"""NS life-cycle change notifications (SOL005 `nslcm/v1`): what an LccnSubscription's filter may
say, and which subscriptions hear what happens to an NS instance.

What happens to an NS instance calls `emit` in the same transaction; the shared outbox
(`services.outbox`) delivers. Subscriptions live with those of the other APIs
(`services.subscriptions`); the functions here are theirs bound to this API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.orm import Session

from edgewise.central.services import outbox, subscriptions
from edgewise.central.services.subscriptions import Api, record, strings, wanted
from edgewise.central.store.tables import NsInstanceRow

OPERATION_OCCURRENCE: Final = "NsLcmOperationOccurrenceNotification"
IDENTIFIER_CREATION: Final = "NsIdentifierCreationNotification"
IDENTIFIER_DELETION: Final = "NsIdentifierDeletionNotification"
NOTIFICATION_TYPES: Final = (OPERATION_OCCURRENCE, IDENTIFIER_CREATION, IDENTIFIER_DELETION)
OPERATION_TYPES: Final = ("INSTANTIATE", "SCALE", "UPDATE", "TERMINATE", "HEAL")
OPERATION_STATES: Final = (
    "PROCESSING", "COMPLETED", "FAILED_TEMP", "FAILED", "ROLLING_BACK", "ROLLED_BACK",
)  # fmt: skip
INSTANCE_KEYS: Final = ("nsdIds", "nsInstanceIds", "nsInstanceNames")
FILTER: Final = record(
    {
        "notificationTypes": strings(NOTIFICATION_TYPES),
        "operationTypes": strings(OPERATION_TYPES),
        "operationStates": strings(OPERATION_STATES),
        "nsInstanceSubscriptionFilter": record(dict.fromkeys(INSTANCE_KEYS, strings())),
    }
)


def validate_filter(value: Mapping[str, Any]) -> dict[str, Any]:
    """The filter if Edgewise can apply it, else Invalid naming every unusable part."""
    return subscriptions.check_filter(value, FILTER)


def matches(
    filter_: Mapping[str, Any],
    ns: NsInstanceRow,
    notification_type: str,
    operation: str | None = None,
    state: str | None = None,
) -> bool:
    """SOL005 filter semantics: every attribute given must match; in a list, any value. The
    operation's type and state constrain only notifications about an operation."""
    for key, value in (("operationTypes", operation), ("operationStates", state)):
        if value is not None and not wanted(filter_, key, value):
            return False
    instances = filter_.get("nsInstanceSubscriptionFilter") or {}
    return wanted(filter_, "notificationTypes", notification_type) and all(
        wanted(instances, key, value)
        for key, value in (("nsdIds", ns.nsd_id), ("nsInstanceIds", ns.id),
                           ("nsInstanceNames", ns.name))
    )  # fmt: skip


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
    hearing = [
        subscription
        for subscription in subscriptions.audience(session, Api.NSLCM, ns.tenant_id,
                                                   shared_rows=False)
        if matches(subscription.filter, ns, notification_type, operation, state)
    ]  # fmt: skip
    return outbox.queue(session, hearing, notification_type, body)
