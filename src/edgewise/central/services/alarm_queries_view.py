"""An alarm as the fault API, its notifications and the CLI see it: a frozen `Alarm` read from a
row (with its correlated alarms), and SOL005's Alarm document of it (`alarm_document`). Read by
`services.alarm_queries` (the API's reads) and `services.fault_notifications` (the bodies)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services.alarm_terms import Kind, ManagedObject
from edgewise.central.store.alarm_tables import AlarmRow

# SOL005 FaultyResourceType of each kind's faulty component: what runs at a site (the site's
# host, a VNF, its desired state, an operation on it, its certificate) is COMPUTE; links, SLAs
# and overlay peers are NETWORK. Edgewise has no STORAGE resource.
RESOURCE_TYPES: Final[dict[str, str]] = {
    Kind.SITE_OFFLINE: "COMPUTE",
    Kind.SITE_REFUSING: "COMPUTE",
    Kind.VNF_DOWN: "COMPUTE",
    Kind.VNF_FLAPPING: "COMPUTE",
    Kind.DRIFT_REPEATED: "COMPUTE",
    Kind.LINK_DOWN: "NETWORK",
    Kind.SLA_BROKEN: "NETWORK",
    Kind.OVERLAY_PEER_DOWN: "NETWORK",
    Kind.OPERATION_FAILED: "COMPUTE",
    Kind.CERTIFICATE_EXPIRING: "COMPUTE",
}
OBJECT_PATHS: Final[dict[str, str]] = {
    ManagedObject.NS: "nslcm/v1/ns_instances",
    ManagedObject.SITE: "api/v1/sites",
    ManagedObject.OVERLAY: "api/v1/overlays",
}


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm, active or cleared; `correlated` are the alarms pointing at it (a root) or
    its root (a correlated alarm)."""

    id: str
    kind: str
    component: str
    tenant_id: str | None
    site_id: str | None
    managed_object_type: str
    managed_object_id: str
    vnf_instance_id: str | None
    severity: str
    event_type: str
    probable_cause: str
    fault_type: str
    fault_details: tuple[str, ...]
    event_time: datetime
    raised_at: datetime
    changed_at: datetime | None
    cleared_at: datetime | None
    ack_state: str
    acknowledged_at: datetime | None
    is_root_cause: bool
    correlated: tuple[str, ...]

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    @property
    def resource_type(self) -> str:
        return RESOURCE_TYPES.get(self.kind, "COMPUTE")

    @classmethod
    def of(cls, row: AlarmRow, correlated: Sequence[str]) -> Alarm:
        return cls(
            id=row.id, kind=row.kind, component=row.component, tenant_id=row.tenant_id,
            site_id=row.site_id, managed_object_type=row.managed_object_type,
            managed_object_id=row.managed_object_id, vnf_instance_id=row.vnf_instance_id,
            severity=row.severity, event_type=row.event_type, probable_cause=row.probable_cause,
            fault_type=row.fault_type, fault_details=tuple(str(d) for d in row.fault_details or ()),
            event_time=row.event_time, raised_at=row.raised_at, changed_at=row.changed_at,
            cleared_at=row.cleared_at, ack_state=row.ack_state,
            acknowledged_at=row.acknowledged_at, is_root_cause=row.is_root_cause,
            correlated=tuple(correlated),
        )  # fmt: skip


def alarms_of(session: Session, rows: Sequence[AlarmRow]) -> list[Alarm]:
    """The alarms of `rows`, each with its correlated alarms (one query for all roots)."""
    roots = [row.id for row in rows if row.is_root_cause]
    pointing: dict[str, list[str]] = {}
    for start in range(0, len(roots), 500):  # bounded IN lists
        found = session.execute(
            select(AlarmRow.id, AlarmRow.root_alarm_id)
            .where(AlarmRow.root_alarm_id.in_(roots[start : start + 500]))
            .order_by(AlarmRow.id)
        )
        for child, root in found:
            pointing.setdefault(str(root), []).append(child)
    return [
        Alarm.of(
            row,
            pointing.get(row.id, [])
            if row.is_root_cause
            else [row.root_alarm_id]
            if row.root_alarm_id
            else [],
        )
        for row in rows
    ]


def alarm_document(alarm: Alarm, base: str) -> dict[str, Any]:
    """SOL005 Alarm (v2.6.1, Table 8.5.2.4-1) and Edgewise's extensions (`managedObjectType`,
    `component`, `kind`, `siteId`, `tenantId`, `active`); `base` is the API's root with its
    trailing slash (`/` in notifications: relative links)."""
    component: dict[str, Any] = {}
    if alarm.vnf_instance_id is not None:
        component["faultyVnfInstanceId"] = alarm.vnf_instance_id
    resource: dict[str, Any] = {"resourceId": alarm.component}
    if alarm.site_id is not None:
        resource["vimId"] = alarm.site_id  # a site is the VIM its VNFs run on
    resource["vimLevelResourceType"] = alarm.component.rsplit("/", 1)[-1].split(":", 1)[0]
    path = OBJECT_PATHS.get(alarm.managed_object_type, "api/v1/sites")
    document: dict[str, Any] = {
        "id": alarm.id,
        "managedObjectId": alarm.managed_object_id,
        "rootCauseFaultyComponent": component,
        "rootCauseFaultyResource": {
            "faultyResource": resource,
            "faultyResourceType": alarm.resource_type,
        },
        "alarmRaisedTime": rfc3339(alarm.raised_at),
        "ackState": alarm.ack_state,
        "perceivedSeverity": alarm.severity,
        "eventTime": rfc3339(alarm.event_time),
        "eventType": alarm.event_type,
        "faultType": alarm.fault_type,
        "probableCause": alarm.probable_cause,
        "isRootCause": alarm.is_root_cause,
        "correlatedAlarmIds": list(alarm.correlated),
        "_links": {
            "self": {"href": f"{base}nsfm/v1/alarms/{alarm.id}"},
            "objectInstance": {"href": f"{base}{path}/{alarm.managed_object_id}"},
        },
        "managedObjectType": alarm.managed_object_type,
        "component": alarm.component,
        "kind": alarm.kind,
        "siteId": alarm.site_id,
        "tenantId": alarm.tenant_id,
        "active": alarm.active,
    }
    for key, moment in (
        ("alarmChangedTime", alarm.changed_at),
        ("alarmClearedTime", alarm.cleared_at),
        ("alarmAcknowledgedTime", alarm.acknowledged_at),
    ):
        if moment is not None:
            document[key] = rfc3339(moment)
    if alarm.fault_details:
        document["faultDetails"] = list(alarm.fault_details)
    return document


def rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC (SQLite hands back naive UTC times)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
