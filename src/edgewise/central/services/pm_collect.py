"""The tracker's step for NS performance management (`workers.tracker_steps`): every pass it
collects the due PM jobs' samples, writes a report and a PerformanceInformationAvailable-
Notification per object at the end of each reporting period, and evaluates thresholds on
fresh telemetry, notifying each crossing once. Bounded per pass (`JOB_BATCH`,
`THRESHOLD_BATCH`), a few queries whatever the batch; rows another replica holds are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from edgewise.central.services import pm_notifications, pm_objects
from edgewise.central.services.pm_jobs import KEPT_REPORTS
from edgewise.central.services.pm_metrics import NS, crossing, values
from edgewise.central.store.pm_tables import PmJobRow, PmReportRow, PmThresholdRow
from edgewise.central.store.tables import NsInstanceRow, aware, aware_or_none, new_id, utcnow

JOB_BATCH: Final = 200
THRESHOLD_BATCH: Final = 1000
THRESHOLD_EVERY: Final = timedelta(seconds=1)  # at most this often per threshold


def advance(session: Session, now: datetime | None = None) -> tuple[int, int]:
    """(jobs collected, thresholds crossed) in this pass."""
    moment = now or utcnow()
    return collect(session, moment), evaluate(session, moment)


def collect(session: Session, now: datetime) -> int:
    """Takes a sample of each due job; a job whose reporting period is complete reports."""
    jobs = list(session.scalars(
        select(PmJobRow)
        .where(PmJobRow.next_collection_at <= now)
        .order_by(PmJobRow.next_collection_at)
        .limit(JOB_BATCH)
        .with_for_update(skip_locked=True)
    ))  # fmt: skip
    if not jobs:
        return 0
    ns_ids = [o for job in jobs if job.object_type == NS for o in job.object_ids]
    site_ids = [o for job in jobs if job.object_type != NS for o in job.object_ids]
    seen = pm_objects.telemetry(session, ns_ids, site_ids)
    ns = pm_objects.ns_rows(session, ns_ids)
    reported: list[str] = []
    for job in jobs:
        boundary = aware_or_none(job.reporting_boundary)
        if boundary is not None and now > boundary:
            job.next_collection_at = None  # SOL005 reportingBoundary: no report after it
            continue
        sample = {
            object_id: values(seen, job.object_type, object_id, job.metrics)[0]
            for object_id in job.object_ids
        }
        job.samples = [*job.samples, {"at": _rfc3339(now), "values": sample}]
        period = timedelta(seconds=job.collection_period)
        due = aware(job.next_collection_at or now) + period
        job.next_collection_at = due if due > now else now + period  # behind: no burst
        complete = len(job.samples) * job.collection_period >= job.reporting_period
        if complete and _report(session, job, ns, now):
            reported.append(job.id)
    _prune(session, reported)
    return len(jobs)


def _report(session: Session, job: PmJobRow, ns: Mapping[str, NsInstanceRow],
            now: datetime) -> bool:  # fmt: skip
    """Writes the period's report and its notifications; none when nothing was measured (the
    objects' sites reported nothing, or the objects are gone)."""
    found = entries(job.object_type, job.object_ids, job.samples, ns)
    job.samples = []
    if not found:
        return False
    report = PmReportRow(
        id=new_id(), job_id=job.id, tenant_id=job.tenant_id, ready_at=now, entries=found
    )
    session.add(report)
    for object_id in dict.fromkeys(entry["objectInstanceId"] for entry in found):
        body = {
            "objectInstanceId": object_id,
            "_links": {
                "objectInstance": pm_objects.href(job.object_type, object_id),
                "pmJob": {"href": f"/nspm/v1/pm_jobs/{job.id}"},
                "performanceReport": {"href": f"/nspm/v1/pm_jobs/{job.id}/reports/{report.id}"},
            },
        }
        pm_notifications.emit(session, job.tenant_id, pm_notifications.PERFORMANCE_INFORMATION,
                              body, ns.get(object_id))  # fmt: skip
    return True


def entries(
    object_type: str,
    object_ids: Sequence[str],
    samples: Sequence[Mapping[str, Any]],
    ns: Mapping[str, NsInstanceRow],
) -> list[dict[str, Any]]:
    """SOL005 PerformanceReport entries: one per object and metric that has values, each with
    the values of the period's samples (objectType: the NS instance's nsdId, SOL005 v2.6.1)."""
    found: list[dict[str, Any]] = []
    for object_id in object_ids:
        by_metric: dict[str, list[dict[str, Any]]] = {}
        for sample in samples:
            for metric, value in sample["values"].get(object_id, {}).items():
                by_metric.setdefault(metric, []).append({"timeStamp": sample["at"],
                                                         "value": value})  # fmt: skip
        row = ns.get(object_id)
        kind = row.nsd_id if object_type == NS and row is not None else object_type
        found.extend(
            {"objectType": kind, "objectInstanceId": object_id, "performanceMetric": metric,
             "performanceValues": performance_values}
            for metric, performance_values in by_metric.items()
        )  # fmt: skip
    return found


def _prune(session: Session, job_ids: Sequence[str]) -> None:
    """Keeps the newest `KEPT_REPORTS` of each job that just reported (each has at most one
    more): one read and one delete for all of them."""
    if not job_ids:
        return
    session.flush()
    newest_first = session.execute(
        select(PmReportRow.job_id, PmReportRow.id)
        .where(PmReportRow.job_id.in_(job_ids))
        .order_by(PmReportRow.job_id, PmReportRow.ready_at.desc(), PmReportRow.id.desc())
    )
    kept: dict[str, int] = {}
    stale = []
    for job_id, report_id in newest_first:
        kept[job_id] = kept.get(job_id, 0) + 1
        if kept[job_id] > KEPT_REPORTS:
            stale.append(report_id)
    if stale:
        session.execute(delete(PmReportRow).where(PmReportRow.id.in_(stale)))


def evaluate(session: Session, now: datetime) -> int:
    """Judges each threshold not judged for `THRESHOLD_EVERY` on telemetry newer than what it
    last saw; returns how many crossed (one ThresholdCrossedNotification each)."""
    rows = list(session.scalars(
        select(PmThresholdRow)
        .where(PmThresholdRow.evaluated_at <= now - THRESHOLD_EVERY)
        .order_by(PmThresholdRow.evaluated_at)
        .limit(THRESHOLD_BATCH)
        .with_for_update(skip_locked=True)
    ))  # fmt: skip
    if not rows:
        return 0
    ns_ids = [row.object_id for row in rows if row.object_type == NS]
    seen = pm_objects.telemetry(
        session, ns_ids, [row.object_id for row in rows if row.object_type != NS]
    )
    ns = pm_objects.ns_rows(session, ns_ids)
    crossed = 0
    for row in rows:
        row.evaluated_at = now
        found, at = values(seen, row.object_type, row.object_id, [row.metric])
        value = found.get(row.metric)
        last = aware_or_none(row.seen_at)
        if value is None or at is None or (last is not None and at <= last):
            continue  # nothing new to judge
        row.seen_at = at
        row.crossed, direction = crossing(row.crossed, value, row.value, row.hysteresis)
        if direction is None:
            continue
        crossed += 1
        body = {
            "thresholdId": row.id,
            "crossingDirection": direction,
            "objectInstanceId": row.object_id,
            "performanceMetric": row.metric,
            "performanceValue": value,
            "_links": {
                "objectInstance": pm_objects.href(row.object_type, row.object_id),
                "threshold": {"href": f"/nspm/v1/thresholds/{row.id}"},
            },
        }
        pm_notifications.emit(session, row.tenant_id, pm_notifications.THRESHOLD_CROSSED, body,
                              ns.get(row.object_id))  # fmt: skip
    return crossed


def _rfc3339(moment: datetime) -> str:
    return aware(moment).isoformat().replace("+00:00", "Z")
