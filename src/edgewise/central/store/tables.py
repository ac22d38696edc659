"""The central's tables. Every tenant-owned row carries `tenant_id`; scoping happens in services."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, synonym


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """UTC with its zone: SQLite hands back naive datetimes, and everything stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def aware_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else aware(moment)


def last_contact(enrolled_at: datetime | None, last_seen_at: datetime | None) -> datetime | None:
    """When the site was last heard of: its last call, or its enrollment if later (aware)."""
    moments = [aware(m) for m in (enrolled_at, last_seen_at) if m is not None]
    return max(moments) if moments else None


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class TenantRow(Base):
    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    description: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A tenant is its own: scoping (services.access) treats it as any tenant-owned row.
    tenant_id: Mapped[str] = synonym("id")


class UserRow(Base):
    """A user: an operator (`admin`, no tenant) or one of a tenant's (`tenant-admin`,
    `tenant`). Names are unique within a tenant, and among operators."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", name="uq_users_tenant_name"),
        Index(
            "uq_users_operator_name", "name", unique=True,
            sqlite_where=text("tenant_id IS NULL"), postgresql_where=text("tenant_id IS NULL"),
        ),
    )  # fmt: skip
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(63))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The portals' password (Argon2id, services.passwords); None: this user cannot sign in there
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(63))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class SiteRow(Base):
    __tablename__ = "sites"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        Index("ix_sites_name_id", "name", "id"),  # an operator's sites list, by name, in pages
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    compute_nodes: Mapped[int] = mapped_column(Integer)
    slots_per_node: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrollment_token_hash: Mapped[str | None] = mapped_column(
        String(64), unique=True, index=True, default=None
    )
    enrollment_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    enrolled_at: Mapped[datetime | None] = mapped_column(default=None)
    cert_serial: Mapped[str | None] = mapped_column(String(40), default=None)
    cert_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[SiteStatusRow | None] = relationship(viewonly=True)  # last heard, last said


class SiteGroupRow(Base):
    __tablename__ = "site_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(63))
    description: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    members: Mapped[list[SiteGroupMemberRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class SiteGroupMemberRow(Base):
    __tablename__ = "site_group_members"
    group_id: Mapped[str] = mapped_column(
        ForeignKey("site_groups.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CatalogItemRow(Base):
    """One SOL005 catalog resource: an NS descriptor or a VNF package (`kind`).

    The two share their life cycle (created, uploaded, onboarded, enabled, in use)
    and differ only in the descriptor fields kept in `summary`.
    `tenant_id` NULL means the provider's shared catalog.
    """

    __tablename__ = "catalog_items"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(8), index=True)
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    onboarding_state: Mapped[str] = mapped_column(String(16), default="CREATED")
    operational_state: Mapped[str] = mapped_column(String(16), default="DISABLED")
    usage_state: Mapped[str] = mapped_column(String(16), default="NOT_IN_USE")
    descriptor_id: Mapped[str | None] = mapped_column(String(255), index=True, default=None)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    user_defined_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    failure: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    content_type: Mapped[str | None] = mapped_column(String(64), default=None)
    checksum: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DesiredStateRow(Base):
    """A site's one versioned desired-state document; `revision` only grows."""

    __tablename__ = "site_desired_states"
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SiteStatusRow(Base):
    """What a site last said about itself, and when it was last heard of."""

    __tablename__ = "site_status"
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    applied_revision: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reported_at: Mapped[datetime | None] = mapped_column(default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)


class ReportItemRow(Base):
    """Every report item received, by the id the site gave it: the deduplication record."""

    __tablename__ = "site_report_items"
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SiteEventRow(Base):
    __tablename__ = "site_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column()
    body: Mapped[dict[str, Any]] = mapped_column()


class SiteCountersRow(Base):
    __tablename__ = "site_counters"
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column()
    body: Mapped[dict[str, Any]] = mapped_column()


class NsInstanceRow(Base):
    """A network service instance (SOL005 NsInstance): one NSD, on the sites it was placed on."""

    __tablename__ = "ns_instances"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True, default=None
    )
    nsd_info_id: Mapped[str] = mapped_column(
        ForeignKey("catalog_items.id", ondelete="RESTRICT"), index=True
    )
    nsd_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(String(1024), default="")
    state: Mapped[str] = mapped_column(String(20), default="NOT_INSTANTIATED")
    flavour_id: Mapped[str | None] = mapped_column(String(255), default=None)
    site_ids: Mapped[list[Any]] = mapped_column(default=list)
    # NS scaling aspect -> the sites its scale-out steps added, oldest first (its level)
    scale_status: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NsLcmOpOccRow(Base):
    """One life-cycle operation on an NS instance (SOL005 NsLcmOpOcc) and the site revisions
    it waits for: `targets` maps each site id to the desired-state revision that carries it."""

    __tablename__ = "ns_lcm_op_occs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ns_instance_id: Mapped[str] = mapped_column(
        ForeignKey("ns_instances.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True, default=None)
    operation: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    start_time: Mapped[datetime] = mapped_column(default=utcnow)
    state_entered_time: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[datetime] = mapped_column()
    operation_params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    targets: Mapped[dict[str, Any]] = mapped_column(default=dict)
    previous: Mapped[dict[str, Any]] = mapped_column(default=dict)  # site -> service before
    sites_done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # what the NS instance becomes when the operation completes: {"scaleStatus": {...}} for
    # SCALE, {"nsdInfoId": ..., "nsdId": ...} for an update to a new NSD version
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    @property
    def automatic(self) -> bool:
        """SOL005 isAutomaticInvocation: Edgewise started it (auto-scaling), not a caller."""
        return self.operation_params.get("isAutomaticInvocation") is True


class LccnSubscriptionRow(Base):
    """A subscription to the notifications of one SOL005 API (`api`): NS life-cycle changes
    (nslcm, LccnSubscription), NSD management (nsd, NsdmSubscription) or VNF package management
    (vnfpkgm, PkgmSubscription). `filter` is in that API's own terms."""

    __tablename__ = "lccn_subscriptions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    api: Mapped[str] = mapped_column(String(8), default="nslcm", server_default="nslcm")
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True, default=None
    )
    callback_uri: Mapped[str] = mapped_column(String(2048))
    filter: Mapped[dict[str, Any]] = mapped_column(default=dict)
    authentication: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationRow(Base):
    """A notification waiting to be delivered (or delivered, or given up): the outbox written in
    the transaction that caused it, so a notification is never lost nor invented."""

    __tablename__ = "notifications"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("lccn_subscriptions.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(12), default="PENDING", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(String(1024), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RolloutRow(Base):
    """An NSD rolled out to many sites in waves, one NS instance per site."""

    __tablename__ = "rollouts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True, default=None
    )
    name: Mapped[str] = mapped_column(String(63))
    nsd_info_id: Mapped[str] = mapped_column(ForeignKey("catalog_items.id", ondelete="RESTRICT"))
    state: Mapped[str] = mapped_column(String(12), index=True)
    batch_size: Mapped[int] = mapped_column(Integer)
    max_failures: Mapped[int] = mapped_column(Integer)
    failure_base: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer)
    waves: Mapped[int] = mapped_column(Integer)
    wave: Mapped[int] = mapped_column(Integer, default=-1)
    reason: Mapped[str | None] = mapped_column(String(1024), default=None)
    rejected: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state_entered_at: Mapped[datetime] = mapped_column(default=utcnow)


class RolloutSiteRow(Base):
    """One site of a rollout: its wave, and the NS instance and operation that put it there."""

    __tablename__ = "rollout_sites"
    rollout_id: Mapped[str] = mapped_column(
        ForeignKey("rollouts.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    wave: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(10), default="PENDING", index=True)
    ns_instance_id: Mapped[str | None] = mapped_column(String(36), default=None)
    op_id: Mapped[str | None] = mapped_column(String(36), default=None)
