"""The central's real-time policy rules (issue 14 §3): a site's own rules and a tenant's, each
kept as its contract document (`model.rtpolicy.PolicyRule`, without `tenant`, which the
composition sets), composed into each site's `policy_rules` section (orchestrator/policy.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from edgewise.central.store.tables import Base, new_id, utcnow


class PolicyRuleRow(Base):
    """A rule at one scope: a site's (`scope_key` `site:ID`) or a tenant's (`tenant:ID`, for
    every site of the tenant); its name is unique in its scope; `position` orders a scope's
    rules (the order they were added in)."""

    __tablename__ = "policy_rules"
    __table_args__ = (UniqueConstraint("scope_key", "name"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    scope: Mapped[str] = mapped_column(String(8))
    scope_key: Mapped[str] = mapped_column(String(48), index=True)
    site_id: Mapped[str | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
