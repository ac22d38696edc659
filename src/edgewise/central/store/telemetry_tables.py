"""The central's telemetry history (issue 14 §1): what sites report of their WAN links, kept as
buckets of one period each (a minute, an hour, a day). Intake writes minute buckets
(`services.telemetry`), the tracker rolls them up and expires them (`services.telemetry_rollup`),
the API reads them (`services.telemetry_history`)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from edgewise.central.store.tables import Base


class LinkHistoryRow(Base):
    """One link of one site over one bucket: `start` (Unix seconds, a multiple of `period`) to
    `start + period`. Per figure (latency, loss, jitter) its min, max and sum over the `*_n`
    samples that carried it, so buckets roll up exactly (sums add, mins take the min); per
    state how many samples said it. `dirty`: changed since it was last rolled up into the
    next period's bucket (a partial index keeps finding those cheap)."""

    __tablename__ = "link_history"
    __table_args__ = (
        Index("ix_link_history_period_start", "period", "start"),
        Index(
            "ix_link_history_dirty",
            "period",
            "start",
            sqlite_where=text("dirty = 1"),  # as SQLite renders the queries' test
            postgresql_where=text("dirty"),
        ),
        {"sqlite_with_rowid": False},
    )
    site_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    link: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    samples: Mapped[int] = mapped_column(Integer)
    up: Mapped[int] = mapped_column(Integer)
    degraded: Mapped[int] = mapped_column(Integer)
    down: Mapped[int] = mapped_column(Integer)
    latency_n: Mapped[int] = mapped_column(Integer)
    latency_min: Mapped[float | None] = mapped_column(Float)
    latency_max: Mapped[float | None] = mapped_column(Float)
    latency_sum: Mapped[float | None] = mapped_column(Float)
    loss_n: Mapped[int] = mapped_column(Integer)
    loss_min: Mapped[float | None] = mapped_column(Float)
    loss_max: Mapped[float | None] = mapped_column(Float)
    loss_sum: Mapped[float | None] = mapped_column(Float)
    jitter_n: Mapped[int] = mapped_column(Integer)
    jitter_min: Mapped[float | None] = mapped_column(Float)
    jitter_max: Mapped[float | None] = mapped_column(Float)
    jitter_sum: Mapped[float | None] = mapped_column(Float)
    dirty: Mapped[bool] = mapped_column(Boolean)
