"""The central's alarms (issue 14): one row per alarm, active or cleared. The terms an alarm is
made of (kinds, X.733 severities and event types) are `services.alarm_terms`; raising, clearing
and correlating is `services.alarms`; SOL005's view of a row is `api.nsfm`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from edgewise.central.store.tables import Base, new_id, utcnow


class AlarmRow(Base):
    """An alarm on one faulty component.

    `component` names the component (`site:ID`, `site:ID/link:NAME`, `site:ID/vnf:NS/VNF`, …, see
    `alarm_terms.component`); `active_key` is `KIND|component` while the alarm is active and
    NULL once cleared, so the store itself allows one active alarm per kind and component.
    `managed_object_id` is the NS instance the alarm is about (SOL005's managedObjectId) or, for
    what belongs to no NS instance, the site or overlay (`managed_object_type` says which).
    A correlated alarm points at its root (`root_alarm_id`, `is_root_cause` false); a root's
    correlated alarms are those pointing at it."""

    __tablename__ = "alarms"
    __table_args__ = (Index("ix_alarms_kind_cleared", "kind", "cleared_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))
    component: Mapped[str] = mapped_column(String(255))
    active_key: Mapped[str | None] = mapped_column(String(300), unique=True, default=None)
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True, default=None
    )
    site_id: Mapped[str | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), index=True, default=None
    )
    managed_object_type: Mapped[str] = mapped_column(String(12))
    managed_object_id: Mapped[str] = mapped_column(String(36), index=True)
    vnf_instance_id: Mapped[str | None] = mapped_column(String(36), default=None)
    severity: Mapped[str] = mapped_column(String(16))
    event_type: Mapped[str] = mapped_column(String(32))
    probable_cause: Mapped[str] = mapped_column(String(128))
    fault_type: Mapped[str] = mapped_column(String(64))
    fault_details: Mapped[list[Any]] = mapped_column(default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    event_time: Mapped[datetime] = mapped_column(default=utcnow)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime | None] = mapped_column(default=None)
    cleared_at: Mapped[datetime | None] = mapped_column(default=None)
    ack_state: Mapped[str] = mapped_column(String(16), default="UNACKNOWLEDGED")
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    is_root_cause: Mapped[bool] = mapped_column(Boolean, default=True)
    root_alarm_id: Mapped[str | None] = mapped_column(
        ForeignKey("alarms.id", ondelete="SET NULL"), index=True, default=None
    )
