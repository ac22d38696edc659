"""The tracker's telemetry step (workers.tracker_steps): rolls closed minute buckets up into
hours and hours into days, and expires buckets past their retention. Each call does a bounded
slice of work in a few set-based statements, and is safe on two replicas at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import CursorResult, Select, delete, false, func, literal, select, true, update
from sqlalchemy.orm import Session

from edgewise.central.services.telemetry import DAY, FIGURES, HOUR, MINUTE, STATES, Retention
from edgewise.central.services.telemetry import upsert as history_upsert
from edgewise.central.store.telemetry_tables import LinkHistoryRow

GRACE: Final = 120  # s after a bucket closes before it is rolled up (reports in flight)
SITES_PER_STEP: Final = 500  # sites' buckets of one period rolled up per step
EXPIRED_BUCKETS_PER_STEP: Final = 10  # buckets of one period (every site's) deleted per step
ROLLUPS: Final = ((MINUTE, HOUR), (HOUR, DAY))


@dataclass(frozen=True)
class StepDone:
    """What one step did: coarse buckets written, rows expired."""

    rolled: int = 0
    expired: int = 0


def step(session: Session, now: datetime, retention: Retention) -> StepDone:
    """One bounded slice of rollup and expiry."""
    moment = int(now.timestamp())
    rolled = sum(_roll(session, fine, coarse, moment) for fine, coarse in ROLLUPS)
    expired = sum(_expire(session, period, moment, retention) for period in (MINUTE, HOUR, DAY))
    return StepDone(rolled, expired)


def oldest_dirty(fine: int, closed: int) -> Select[int]:
    """The start of the oldest changed bucket of period `fine` before `closed`: run on every
    tracker pass, so it must stay an index lookup (the partial index on dirty buckets)."""
    h = LinkHistoryRow
    return select(func.min(h.start)).where(h.period == fine, h.dirty, h.start < closed)


def _roll(session: Session, fine: int, coarse: int, moment: int) -> int:
    """Recomputes the coarse buckets of the oldest closed coarse bucket with changed fine
    buckets, for up to SITES_PER_STEP sites. The fine buckets are marked clean first (their
    row locks make a concurrent intake wait, then mark them changed again): a sample that
    lands meanwhile is rolled up by a later step, never lost."""
    h = LinkHistoryRow
    closed = moment - GRACE - (moment - GRACE) % coarse  # buckets before this are closed
    oldest = session.scalar(oldest_dirty(fine, closed))
    if oldest is None:
        return 0
    begin = oldest - oldest % coarse
    within = (h.period == fine, h.start >= begin, h.start < begin + coarse)
    sites = list(
        session.scalars(
            select(h.site_id)
            .where(*within, h.dirty)
            .group_by(h.site_id)
            .order_by(h.site_id)
            .limit(SITES_PER_STEP)
        )
    )
    session.execute(
        update(h)
        .where(*within, h.dirty, h.site_id.in_(sites))
        .values(dirty=False)
        .execution_options(synchronize_session=False)
    )
    columns: list[Any] = [
        h.site_id,
        h.link,
        literal(coarse).label("period"),
        literal(begin).label("start"),
        func.sum(h.samples).label("samples"),
        *(func.sum(getattr(h, state)).label(state) for state in STATES),
    ]
    for figure, _ in FIGURES:
        columns += [
            func.sum(getattr(h, f"{figure}_n")).label(f"{figure}_n"),
            func.min(getattr(h, f"{figure}_min")).label(f"{figure}_min"),
            func.max(getattr(h, f"{figure}_max")).label(f"{figure}_max"),
            func.sum(getattr(h, f"{figure}_sum")).label(f"{figure}_sum"),
        ]
    columns.append((true() if coarse != DAY else false()).label("dirty"))
    source = select(*columns).where(*within, h.site_id.in_(sites)).group_by(h.site_id, h.link)
    connection = session.connection()
    statement = history_upsert(connection, merge=False)
    names = [column.name for column in columns]
    written = connection.execute(
        statement.from_select(names, source).returning(LinkHistoryRow.link)
    )
    return len(written.all())


def _expire(session: Session, period: int, moment: int, retention: Retention) -> int:
    """Deletes the buckets of `period` wholly past its retention, the oldest few buckets'
    worth."""
    h = LinkHistoryRow
    cutoff = moment - retention.seconds(period) - period + 1  # a bucket starting before ended
    oldest = session.scalar(select(func.min(h.start)).where(h.period == period))
    if oldest is None or oldest >= cutoff:
        return 0
    until = min(cutoff, oldest + EXPIRED_BUCKETS_PER_STEP * period)
    gone: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(h)
        .where(h.period == period, h.start < until)
        .execution_options(synchronize_session=False)
    )
    return gone.rowcount
