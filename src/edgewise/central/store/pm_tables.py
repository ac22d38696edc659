"""SOL005 NS performance management's store (issue 14): PM jobs with the samples of their
current reporting period, their reports, and thresholds with their crossing state. The use cases
are `services.pm_jobs`, `services.pm_thresholds` and the tracker's `services.pm_collect`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from edgewise.central.store.tables import Base, new_id, utcnow


class PmJobRow(Base):
    """A PM job: which metrics of which objects, collected every `collection_period` s and
    reported every `reporting_period` s. `samples` holds what the current reporting period has
    collected so far (`[{"at": ..., "values": {object: {metric: value}}}]`); the job stops
    (`next_collection_at` NULL) past its `reporting_boundary`. No tenant: an operator's job."""

    __tablename__ = "pm_jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True, default=None
    )
    object_type: Mapped[str] = mapped_column(String(8))
    object_ids: Mapped[list[Any]] = mapped_column()
    metrics: Mapped[list[Any]] = mapped_column()  # the metrics collected, groups expanded
    criteria: Mapped[dict[str, Any]] = mapped_column()  # as the request gave them
    collection_period: Mapped[int] = mapped_column(Integer)
    reporting_period: Mapped[int] = mapped_column(Integer)
    reporting_boundary: Mapped[datetime | None] = mapped_column(default=None)
    next_collection_at: Mapped[datetime | None] = mapped_column(index=True)
    samples: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PmReportRow(Base):
    """One reporting period of a PM job: SOL005 PerformanceReport's entries."""

    __tablename__ = "pm_reports"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("pm_jobs.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), default=None)
    ready_at: Mapped[datetime] = mapped_column()
    entries: Mapped[list[Any]] = mapped_column()


class PmThresholdRow(Base):
    """A SIMPLE threshold on one metric of one object. `crossed` is the side it last crossed to
    (UP, DOWN; NULL until the first reading); `seen_at` the time of the telemetry last
    evaluated, so that a reading is judged once; `evaluated_at` orders the tracker's passes."""

    __tablename__ = "pm_thresholds"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True, default=None
    )
    object_type: Mapped[str] = mapped_column(String(8))
    object_id: Mapped[str] = mapped_column(String(36))
    metric: Mapped[str] = mapped_column(String(128))
    value: Mapped[float] = mapped_column(Float)
    hysteresis: Mapped[float] = mapped_column(Float)
    crossed: Mapped[str | None] = mapped_column(String(4), default=None)
    seen_at: Mapped[datetime | None] = mapped_column(default=None)
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
