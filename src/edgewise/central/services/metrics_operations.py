"""How long finished lifecycle operations took, as a Prometheus histogram computed in the store
at scrape time (one GROUP BY: a bucket per row in SQL, never the rows themselves)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import HistogramMetricFamily, Metric
from sqlalchemy import ColumnElement, Float, case, cast, extract, func, literal, select
from sqlalchemy.orm import Session

from edgewise.central.store.tables import NsLcmOpOccRow

BUCKETS_S = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
FINISHED = ("COMPLETED", "FAILED", "ROLLED_BACK")


def _seconds(session: Session) -> ColumnElement[float]:
    """From the operation's start to its final state, in seconds, in the store's own dialect."""
    started, ended = NsLcmOpOccRow.start_time, NsLcmOpOccRow.state_entered_time
    if session.get_bind().dialect.name == "sqlite":
        return cast((func.julianday(ended) - func.julianday(started)) * 86400.0, Float)
    return cast(extract("epoch", ended - started), Float)


def operation_durations(session: Session) -> Iterator[Metric]:
    seconds = _seconds(session)
    bucket = case(
        *((seconds <= bound, literal(index)) for index, bound in enumerate(BUCKETS_S)),
        else_=literal(len(BUCKETS_S)),
    )
    query = (
        select(
            NsLcmOpOccRow.operation, NsLcmOpOccRow.state, bucket, func.count(), func.sum(seconds)
        )
        .where(NsLcmOpOccRow.state.in_(FINISHED))
        .group_by(NsLcmOpOccRow.operation, NsLcmOpOccRow.state, bucket)
    )
    counts: dict[tuple[str, str], list[int]] = {}
    sums: dict[tuple[str, str], float] = {}
    for operation, state, index, count, total in session.execute(query):
        key = (operation, state)
        counts.setdefault(key, [0] * (len(BUCKETS_S) + 1))[index] += count
        sums[key] = sums.get(key, 0.0) + float(total or 0.0)
    family = HistogramMetricFamily(
        "edgewise_operation_duration_seconds",
        "Finished NS lifecycle operations by type and final state: from start to that state",
        labels=("operation", "state"),
    )
    for key, per_bucket in sorted(counts.items()):
        cumulative, running = [], 0
        for bound, count in zip((*map(str, BUCKETS_S), "+Inf"), per_bucket, strict=True):
            running += count
            cumulative.append((bound, float(running)))
        family.add_metric(key, cumulative, sum_value=sums[key])
    yield family
