"""SOL005 PM jobs and their reports (`nspm/v1`): creating one after checking what it asks for
(objects the caller owns, metrics Edgewise measures, periods within bounds), reading, listing,
deleting. The tracker collects and reports (`services.pm_collect`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from edgewise.central.services.access import (
    Principal,
    ensure_writable,
    get_visible,
    owner_for_new,
    visible,
)
from edgewise.central.services.errors import (
    Conflict,
    InputProblem,
    Invalid,
    NotFound,
    Unprocessable,
)
from edgewise.central.services.pm_metrics import OBJECT_TYPES, expand
from edgewise.central.services.pm_objects import missing
from edgewise.central.services.tenants import get_tenant
from edgewise.central.store.pm_tables import PmJobRow, PmReportRow
from edgewise.central.store.tables import aware, aware_or_none, utcnow

MIN_COLLECTION_PERIOD: Final = 10  # s: the sites report counters at most this often anyway
MAX_PERIOD: Final = 86_400  # s, either period
MAX_COLLECTIONS_PER_REPORT: Final = 100  # reportingPeriod / collectionPeriod
MAX_OBJECTS: Final = 100
MAX_METRICS: Final = 30  # after groups are expanded
MAX_JOBS_PER_OWNER: Final = 100
MAX_VALUES_PER_REPORT: Final = 10_000  # objects x metrics x collections per report
KEPT_REPORTS: Final = 24  # per job: older ones are removed as new ones are written


@dataclass(frozen=True)
class ReportRef:
    id: str
    ready_at: datetime


@dataclass(frozen=True)
class PmJob:
    id: str
    tenant_id: str | None
    object_type: str
    object_ids: tuple[str, ...]
    criteria: Mapping[str, Any]
    reports: tuple[ReportRef, ...]

    @classmethod
    def of(cls, row: PmJobRow, reports: Sequence[ReportRef] = ()) -> PmJob:
        return cls(row.id, row.tenant_id, row.object_type, tuple(row.object_ids),
                   dict(row.criteria), tuple(reports))  # fmt: skip


@dataclass(frozen=True)
class Report:
    id: str
    job_id: str
    ready_at: datetime
    entries: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class JobRequest:
    """What a CreatePmJobRequest asks for (its shape checked by the API)."""

    object_type: str
    object_ids: Sequence[str]
    metrics: Sequence[str]
    groups: Sequence[str]
    collection_period: int
    reporting_period: int
    reporting_boundary: datetime | None = None
    tenant_id: str | None = None


def create(session: Session, principal: Principal, asked: JobRequest,
           now: datetime | None = None) -> PmJob:  # fmt: skip
    """A new PM job, collecting from `now` + collectionPeriod on; Invalid (400) for what is
    malformed or out of bounds, Unprocessable (422) for objects that are not there."""
    owner = owner_for_new(principal, asked.tenant_id, shared_allowed=True)
    if owner is not None:
        get_tenant(session, principal, owner)
    metrics = _checked(asked)
    unknown = missing(session, principal, owner=owner, object_type=asked.object_type,
                      ids=asked.object_ids, where="objectInstanceIds")  # fmt: skip
    if unknown:
        raise Unprocessable("the PM job names objects that do not exist", unknown)
    owned = PmJobRow.tenant_id.is_(None) if owner is None else PmJobRow.tenant_id == owner
    if (session.scalar(select(func.count()).select_from(PmJobRow).where(owned)) or 0) >= (
        MAX_JOBS_PER_OWNER
    ):
        raise Conflict(f"there are {MAX_JOBS_PER_OWNER} PM jobs already, the most a tenant "
                       "may have: delete one first")  # fmt: skip
    start = now or utcnow()
    criteria: dict[str, Any] = {
        "performanceMetric": list(asked.metrics),
        "performanceMetricGroup": list(asked.groups),
        "collectionPeriod": asked.collection_period,
        "reportingPeriod": asked.reporting_period,
    }
    if asked.reporting_boundary is not None:
        criteria["reportingBoundary"] = _rfc3339(asked.reporting_boundary)
    row = PmJobRow(
        tenant_id=owner, object_type=asked.object_type, object_ids=list(asked.object_ids),
        metrics=metrics, criteria=criteria, collection_period=asked.collection_period,
        reporting_period=asked.reporting_period, reporting_boundary=asked.reporting_boundary,
        next_collection_at=start + timedelta(seconds=asked.collection_period), samples=[],
    )  # fmt: skip
    session.add(row)
    session.flush()
    return PmJob.of(row)


def _checked(asked: JobRequest) -> list[str]:
    """The metrics the job collects, or Invalid naming every problem of the request."""
    problems: list[InputProblem] = []
    if asked.object_type not in OBJECT_TYPES:
        problems.append(InputProblem("objectType", f"{asked.object_type!r} is not one of "
                                     f"{', '.join(OBJECT_TYPES)}"))  # fmt: skip
    if not asked.object_ids or len(asked.object_ids) > MAX_OBJECTS:
        problems.append(InputProblem("objectInstanceIds", f"expected 1 to {MAX_OBJECTS} ids"))
    problems.extend(
        InputProblem(f"objectInstanceIds[{index}]", f"{object_id} is given twice")
        for index, object_id in enumerate(asked.object_ids)
        if object_id in asked.object_ids[:index]
    )
    if not asked.metrics and not asked.groups:
        problems.append(InputProblem(
            "criteria.performanceMetric",
            "give at least one metric or one metric group (criteria.performanceMetricGroup)",
        ))  # fmt: skip
    metrics: list[str] = []
    if asked.object_type in OBJECT_TYPES:
        metrics, wrong = expand(asked.metrics, asked.groups, asked.object_type)
        problems.extend(wrong)
        if len(metrics) > MAX_METRICS:
            problems.append(
                InputProblem("criteria.performanceMetric", f"at most {MAX_METRICS} metrics")
            )
    collection, reporting = asked.collection_period, asked.reporting_period
    if not MIN_COLLECTION_PERIOD <= collection <= MAX_PERIOD:
        problems.append(InputProblem(
            "criteria.collectionPeriod", f"expected {MIN_COLLECTION_PERIOD} to {MAX_PERIOD} s"
        ))  # fmt: skip
    elif (
        reporting < collection
        or reporting % collection
        or reporting > min(MAX_PERIOD, collection * MAX_COLLECTIONS_PER_REPORT)
    ):
        problems.append(InputProblem(
            "criteria.reportingPeriod",
            f"expected a multiple of collectionPeriod ({collection} s), at most "
            f"{MAX_COLLECTIONS_PER_REPORT} times it and at most {MAX_PERIOD} s",
        ))  # fmt: skip
    if (
        not problems
        and (values := len(asked.object_ids) * len(metrics) * (reporting // collection))
        > MAX_VALUES_PER_REPORT
    ):
        problems.append(InputProblem(
            "criteria.reportingPeriod",
            f"the job would report {values} values at a time (objects x metrics x collections "
            f"per report), at most {MAX_VALUES_PER_REPORT}: fewer of one of them",
        ))  # fmt: skip
    if problems:
        raise Invalid("the PM job is not valid", problems)
    return metrics


def get(session: Session, principal: Principal, job_id: str) -> PmJobRow:
    return get_visible(session, PmJobRow, job_id, principal, what="PM job")


def read(session: Session, principal: Principal, job_id: str) -> PmJob:
    row = get(session, principal, job_id)
    return PmJob.of(row, _reports(session, [row.id]).get(row.id, []))


def list_visible(session: Session, principal: Principal) -> list[PmJob]:
    rows = list(session.scalars(
        select(PmJobRow).where(visible(principal, PmJobRow)).order_by(PmJobRow.id)
    ))  # fmt: skip
    reports = _reports(session, [row.id for row in rows])
    return [PmJob.of(row, reports.get(row.id, [])) for row in rows]


def _reports(session: Session, job_ids: Sequence[str]) -> dict[str, list[ReportRef]]:
    found: dict[str, list[ReportRef]] = {}
    if not job_ids:
        return found
    query = (
        select(PmReportRow.job_id, PmReportRow.id, PmReportRow.ready_at)
        .where(PmReportRow.job_id.in_(job_ids))
        .order_by(PmReportRow.ready_at, PmReportRow.id)
    )
    for job_id, report_id, ready_at in session.execute(query):
        found.setdefault(job_id, []).append(ReportRef(report_id, aware(ready_at)))
    return found


def delete(session: Session, principal: Principal, job_id: str) -> None:
    """The job and its reports go."""
    row = get(session, principal, job_id)
    ensure_writable(principal, row, what="PM job")
    session.delete(row)
    session.flush()


def read_report(session: Session, principal: Principal, job_id: str, report_id: str) -> Report:
    get(session, principal, job_id)
    row = session.get(PmReportRow, report_id)
    if row is None or row.job_id != job_id:
        raise NotFound(f"report {report_id} of PM job {job_id} does not exist")
    return Report(row.id, row.job_id, aware(row.ready_at), list(row.entries))


def boundary_of(row: PmJobRow) -> datetime | None:
    return aware_or_none(row.reporting_boundary)


def _rfc3339(moment: datetime) -> str:
    return aware(moment).isoformat().replace("+00:00", "Z")
