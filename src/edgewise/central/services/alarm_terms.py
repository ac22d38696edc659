"""What an alarm is made of: its kinds, X.733 severities and event types (ITU-T X.733, as SOL005
NSFM spells them), and how each kind names its faulty component. Shared by the alarm engine
(`services.alarms`), the SOL005 view (`api.nsfm`), the CLI and the receivers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Severity(StrEnum):
    """X.733 perceived severity, most severe first (SOL005 PerceivedSeverityType)."""

    CRITICAL = "CRITICAL"
    MAJOR = "MAJOR"
    MINOR = "MINOR"
    WARNING = "WARNING"
    INDETERMINATE = "INDETERMINATE"
    CLEARED = "CLEARED"


class EventType(StrEnum):
    """X.733 event type (SOL005 EventType)."""

    COMMUNICATIONS_ALARM = "COMMUNICATIONS_ALARM"
    PROCESSING_ERROR_ALARM = "PROCESSING_ERROR_ALARM"
    ENVIRONMENTAL_ALARM = "ENVIRONMENTAL_ALARM"
    QOS_ALARM = "QOS_ALARM"
    EQUIPMENT_ALARM = "EQUIPMENT_ALARM"


class AckState(StrEnum):
    UNACKNOWLEDGED = "UNACKNOWLEDGED"
    ACKNOWLEDGED = "ACKNOWLEDGED"


class ManagedObject(StrEnum):
    """What `managedObjectId` names: an NS instance (SOL005's own case), or, for faults that
    belong to no NS instance, the site or the overlay (an Edgewise extension)."""

    NS = "NS"
    SITE = "SITE"
    OVERLAY = "OVERLAY"


@dataclass(frozen=True, slots=True)
class KindTerms:
    severity: Severity
    event_type: EventType
    probable_cause: str
    fault_type: str


class Kind(StrEnum):
    """Every alarm the central raises; `terms` gives each its default severity, event type and
    probable cause."""

    SITE_OFFLINE = "SITE_OFFLINE"
    SITE_REFUSING = "SITE_REFUSING"
    VNF_DOWN = "VNF_DOWN"
    VNF_FLAPPING = "VNF_FLAPPING"
    DRIFT_REPEATED = "DRIFT_REPEATED"
    LINK_DOWN = "LINK_DOWN"
    SLA_BROKEN = "SLA_BROKEN"
    OVERLAY_PEER_DOWN = "OVERLAY_PEER_DOWN"
    OPERATION_FAILED = "OPERATION_FAILED"
    CERTIFICATE_EXPIRING = "CERTIFICATE_EXPIRING"

    @property
    def terms(self) -> KindTerms:
        return TERMS[self]


_E = EventType
_S = Severity
TERMS: Final[dict[Kind, KindTerms]] = {
    Kind.SITE_OFFLINE: KindTerms(
        _S.CRITICAL, _E.COMMUNICATIONS_ALARM, "siteUnreachable", "site offline"
    ),
    Kind.SITE_REFUSING: KindTerms(
        _S.MAJOR, _E.PROCESSING_ERROR_ALARM, "desiredStateRefused", "desired state refused"
    ),
    Kind.VNF_DOWN: KindTerms(_S.MAJOR, _E.PROCESSING_ERROR_ALARM, "vnfDown", "VNF down"),
    Kind.VNF_FLAPPING: KindTerms(
        _S.MINOR, _E.PROCESSING_ERROR_ALARM, "vnfFlapping", "VNF flapping"
    ),
    Kind.DRIFT_REPEATED: KindTerms(
        _S.MINOR, _E.PROCESSING_ERROR_ALARM, "driftRepeated", "drift repaired repeatedly"
    ),
    Kind.LINK_DOWN: KindTerms(_S.MAJOR, _E.COMMUNICATIONS_ALARM, "linkDown", "WAN link down"),
    Kind.SLA_BROKEN: KindTerms(_S.MINOR, _E.QOS_ALARM, "slaBroken", "SLA broken"),
    Kind.OVERLAY_PEER_DOWN: KindTerms(
        _S.MAJOR, _E.COMMUNICATIONS_ALARM, "overlayPeerDown", "overlay peer down"
    ),
    Kind.OPERATION_FAILED: KindTerms(
        _S.MAJOR, _E.PROCESSING_ERROR_ALARM, "operationFailed", "operation failed"
    ),
    Kind.CERTIFICATE_EXPIRING: KindTerms(
        _S.WARNING, _E.EQUIPMENT_ALARM, "certificateExpiring", "certificate expiring"
    ),
}


def component(site_id: str | None = None, /, **parts: str) -> str:
    """A faulty component's name: `site:ID` followed by `/part:value` in the order given, e.g.
    `component(site, link="mpls")` → `site:ID/link:mpls`,
    `component(site, vnf="NS/fw")`, `component(site, link="mpls", app_class="voice")`,
    `component(overlay="OID", site="SID", peer="PID")`, `component(operation="OCC")`."""
    head = [] if site_id is None else [f"site:{site_id}"]
    return "/".join(head + [f"{key.replace('_', '-')}:{value}" for key, value in parts.items()])


def active_key(kind: Kind, component_name: str) -> str:
    """The alarm's key while active: unique in the store (`AlarmRow.active_key`)."""
    return f"{kind.value}|{component_name}"
