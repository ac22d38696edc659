"""The central's SD-WAN tables: sites' WAN links, SLA profiles, application classes, steering
policies and a tenant's bounds, overlays and their members, what sites report of their links
and overlay keys, and the key rotations under way. Specs are kept in the contract's document
form (edgewise.model reads them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from edgewise.central.store.tables import Base, new_id, utcnow


class SiteLinkRow(Base):
    """A WAN link of a site: `spec` is its `WanLink` document; `position` orders the links."""

    __tablename__ = "site_links"
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column()


class NamedSpecRow(Base):
    """An operator's fleet-wide object by name, kept as its contract document."""

    __abstract__ = True
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column()


class SlaProfileRow(NamedSpecRow):
    """An SLA profile: its `SlaProfile` document."""

    __tablename__ = "sla_profiles"


class AppClassRow(NamedSpecRow):
    """An application class: its `AppClass` document."""

    __tablename__ = "app_classes"


class SteeringPolicyRow(Base):
    """A policy for one class at one scope: the fleet, a site, or a tenant (its preference).
    `scope_key` is `fleet`, `site:ID` or `tenant:ID`: one policy per class and scope."""

    __tablename__ = "steering_policies"
    __table_args__ = (UniqueConstraint("scope_key", "class_name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    scope: Mapped[str] = mapped_column(String(8), index=True)
    scope_key: Mapped[str] = mapped_column(String(48))
    site_id: Mapped[str | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    class_name: Mapped[str] = mapped_column(String(64), index=True)
    links: Mapped[list[Any]] = mapped_column()
    sla: Mapped[str | None] = mapped_column(String(64), default=None)
    spread: Mapped[bool] = mapped_column(Boolean, default=False)


class SteeringBoundRow(Base):
    """What a tenant may prefer for one class: the links it may use, whether it may change
    the SLA profile."""

    __tablename__ = "steering_bounds"
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    class_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    links: Mapped[list[Any]] = mapped_column()
    may_change_sla: Mapped[bool] = mapped_column(Boolean, default=False)


class OverlayRow(Base):
    """A tenant's encrypted overlay (one per tenant): its topology, inner prefix, hubs, and the
    first UDP port its members listen on."""

    __tablename__ = "overlays"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), unique=True
    )
    name: Mapped[str] = mapped_column(String(64))
    topology: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(18))
    base_port: Mapped[int] = mapped_column(Integer)
    key_rotation_h: Mapped[int] = mapped_column(Integer)
    hubs: Mapped[list[Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OverlayMemberRow(Base):
    """A site in an overlay: its inner address, and the links it rides (None: all of them)."""

    __tablename__ = "overlay_members"
    __table_args__ = (UniqueConstraint("overlay_id", "address"),)
    overlay_id: Mapped[str] = mapped_column(
        ForeignKey("overlays.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    address: Mapped[str] = mapped_column(String(15))
    links: Mapped[list[Any] | None] = mapped_column(default=None)


class SiteOverlayKeyRow(Base):
    """The public key (and, while rotating, the next one) a site reported for a tenant's
    overlay."""

    __tablename__ = "site_overlay_keys"
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(44))
    next_public_key: Mapped[str | None] = mapped_column(String(44), default=None)
    reported_at: Mapped[datetime] = mapped_column()


class SiteLinkStateRow(Base):
    """What a site last reported of one of its links: state, figures, its address (a DHCP
    link's), and per application class counters on it."""

    __tablename__ = "site_link_states"
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(8))
    latency_ms: Mapped[float | None] = mapped_column(Float, default=None)
    loss_percent: Mapped[float | None] = mapped_column(Float, default=None)
    jitter_ms: Mapped[float | None] = mapped_column(Float, default=None)
    address: Mapped[str | None] = mapped_column(String(18), default=None)
    since: Mapped[datetime | None] = mapped_column(default=None)
    counters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reported_at: Mapped[datetime] = mapped_column()


class OverlayRotationRow(Base):
    """A member's overlay key rotation under way (`orchestrator.keyrotation.Rotation`): the
    next key, the phase, the link drained, the links switched. It goes with the membership."""

    __tablename__ = "overlay_key_rotations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["overlay_id", "site_id"],
            ["overlay_members.overlay_id", "overlay_members.site_id"],
            ondelete="CASCADE",
        ),
    )
    overlay_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    next_public_key: Mapped[str] = mapped_column(String(44))
    phase: Mapped[str] = mapped_column(String(8))
    link: Mapped[str | None] = mapped_column(String(64), default=None)
    switched: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OverlayRotationWaitRow(Base):
    """A site whose applied revision a rotation's next step waits for: the rotating site or
    one of its peers, and the revision that carries the step (found by `site_id` when that
    site reports)."""

    __tablename__ = "overlay_rotation_waits"
    __table_args__ = (
        ForeignKeyConstraint(
            ["overlay_id", "rotating_site_id"],
            ["overlay_key_rotations.overlay_id", "overlay_key_rotations.site_id"],
            ondelete="CASCADE",
        ),
    )
    overlay_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    rotating_site_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    revision: Mapped[int] = mapped_column(Integer)
