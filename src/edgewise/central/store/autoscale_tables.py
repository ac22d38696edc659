"""Auto-scaling rules (issue 14 §4, docs/elastic-vnfs.md): each bound to an NS instance, with
what its evaluation (orchestrator/autoscale_step.py) last saw and decided."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from edgewise.central.store.tables import Base, new_id, utcnow


class AutoScaleRuleRow(Base):
    """Scale `vnf` of the NS by `aspect_id` out when the rate per second of `metric` (its
    counters summed over the NS's sites) is above `scale_out_above`, in when below
    `scale_in_below`, not sooner than `cooldown_s` after the last scaling, between levels
    `min_level` and `max_level`. `origin`: "api" (an operator's) or "descriptor" (seeded at
    instantiation from the VNFD's AutoScale policy). `scale_type` SCALE_VNF scales `vnf` by
    its VNFD's aspect; SCALE_NS scales the NS by the NSD's aspect `aspect_id` (by sites: out
    onto the first of `add_sites` it does not run on), `vnf` then naming whose counters are
    judged. `counter`/`counter_at` is the reading the next rate is taken from; `evaluated_at`
    orders the tracker's batches."""

    __tablename__ = "autoscale_rules"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True, default=None)
    ns_instance_id: Mapped[str] = mapped_column(
        ForeignKey("ns_instances.id", ondelete="CASCADE"), index=True
    )
    vnf: Mapped[str] = mapped_column(String(64))
    aspect_id: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(32))
    scale_out_above: Mapped[float] = mapped_column(Float)
    scale_in_below: Mapped[float] = mapped_column(Float)
    cooldown_s: Mapped[int] = mapped_column(Integer)
    min_level: Mapped[int] = mapped_column(Integer)
    max_level: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    counter: Mapped[float | None] = mapped_column(Float, default=None)
    counter_at: Mapped[datetime | None] = mapped_column(default=None)
    scaled_at: Mapped[datetime | None] = mapped_column(default=None)
    last_decision: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    origin: Mapped[str] = mapped_column(String(16), default="api", server_default="api")
    scale_type: Mapped[str] = mapped_column(
        String(16), default="SCALE_VNF", server_default="SCALE_VNF"
    )
    add_sites: Mapped[list[str] | None] = mapped_column(JSON, default=None)
