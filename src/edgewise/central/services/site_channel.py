"""The central's half of the site channel: desired-state revisions and report intake."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, ensure_writable, visible
from edgewise.central.services.errors import InputProblem, Invalid
from edgewise.central.services.sites import get_site
from edgewise.central.store.tables import (
    DesiredStateRow,
    ReportItemRow,
    SiteCountersRow,
    SiteEventRow,
    SiteRow,
    SiteStatusRow,
    utcnow,
)
from edgewise.model.desired import DesiredState, DocumentError

REVISIONS_KEY = "edgewise.revisions"
REPORT_KINDS = ("status", "event", "counters")


@dataclass(frozen=True)
class DesiredDocument:
    site_id: str
    revision: int
    document: dict[str, Any]


@dataclass(frozen=True)
class ReportItem:
    """One validated report item from a site."""

    id: str
    kind: str
    at: datetime
    body: dict[str, Any]


def validate_document(document: object) -> dict[str, Any]:
    """The document if it is a valid desired state, else Invalid listing every problem."""
    try:
        DesiredState.from_document(0, document)
    except DocumentError as exc:
        raise Invalid(
            "the desired-state document is not valid",
            [InputProblem(p.split(":", 1)[0], p.split(":", 1)[-1].strip()) for p in exc.problems],
        ) from exc
    assert isinstance(document, dict)
    return document


def set_desired(
    session: Session, principal: Principal, site_ids: Sequence[str], document: dict[str, Any]
) -> list[DesiredDocument]:
    """Writes `document` as each site's new desired state (revision + 1 each).

    Who may touch the sites is settled before the document is looked at.
    """
    targets = list(dict.fromkeys(site_ids))
    for site_id in targets:
        ensure_writable(principal, get_site(session, principal, site_id), what="site")
    validate_document(document)
    return [write_revision(session, site_id, document) for site_id in targets]


def write_revision(session: Session, site_id: str, document: dict[str, Any]) -> DesiredDocument:
    """Bumps the site's revision; the commit hook tells waiting long-polls."""
    row = session.get(DesiredStateRow, site_id, with_for_update=True)
    if row is None:
        row = DesiredStateRow(site_id=site_id, revision=1, document=document)
        session.add(row)
    else:
        row.revision += 1
        row.document = document
        row.updated_at = utcnow()
    session.flush()
    session.info.setdefault(REVISIONS_KEY, {})[site_id] = row.revision
    return DesiredDocument(site_id, row.revision, document)


def get_desired(session: Session, site_id: str) -> DesiredDocument:
    row = session.get(DesiredStateRow, site_id)
    if row is None:
        return DesiredDocument(site_id, 0, {"services": []})
    return DesiredDocument(site_id, row.revision, row.document)


def revisions(session: Session, site_ids: Iterable[str] | None = None) -> dict[str, int]:
    query = select(DesiredStateRow.site_id, DesiredStateRow.revision)
    if site_ids is not None:
        query = query.where(DesiredStateRow.site_id.in_(list(site_ids)))
    return dict(session.execute(query).tuples().all())


def parse_report_batch(body: object, *, max_items: int) -> list[ReportItem]:
    """Validates a whole batch; any bad item refuses the batch (nothing is recorded)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
        raise Invalid('a report batch is {"items": [...]}', [InputProblem("items", "missing")])
    items = body["items"]
    if len(items) > max_items:
        raise Invalid(
            "the batch is too large",
            [InputProblem("items", f"{len(items)} items; at most {max_items} per batch")],
        )
    problems: list[InputProblem] = []
    parsed: list[ReportItem] = []
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(item, Mapping):
            problems.append(InputProblem(where, "must be an object"))
            continue
        item_id, kind, at, payload = (
            item.get("id"),
            item.get("kind"),
            item.get("at"),
            item.get("body"),
        )
        if not isinstance(item_id, str) or not 1 <= len(item_id) <= 64:
            problems.append(InputProblem(f"{where}.id", "must be a string of 1-64 characters"))
        if kind not in REPORT_KINDS:
            problems.append(
                InputProblem(f"{where}.kind", f"must be one of {', '.join(REPORT_KINDS)}")
            )
        moment = _timestamp(at)
        if moment is None:
            problems.append(InputProblem(f"{where}.at", "must be an ISO 8601 time with a zone"))
        if not isinstance(payload, dict):
            problems.append(InputProblem(f"{where}.body", "must be an object"))
        if (
            not problems
            and isinstance(item_id, str)
            and isinstance(kind, str)
            and moment is not None
            and isinstance(payload, dict)
        ):
            parsed.append(ReportItem(item_id, kind, moment, payload))
    if problems:
        raise Invalid("the report batch was refused; nothing was recorded", problems)
    return parsed


def record_reports(session: Session, site_id: str, items: Sequence[ReportItem]) -> tuple[int, int]:
    """Records new items exactly once; returns (accepted, duplicates)."""
    ids = list(dict.fromkeys(item.id for item in items))
    seen = set(
        session.scalars(
            select(ReportItemRow.item_id).where(
                ReportItemRow.site_id == site_id, ReportItemRow.item_id.in_(ids)
            )
        )
    )
    fresh: dict[str, ReportItem] = {}
    for item in items:
        if item.id not in seen and item.id not in fresh:
            fresh[item.id] = item
    for item in fresh.values():
        session.add(ReportItemRow(site_id=site_id, item_id=item.id, kind=item.kind, at=item.at))
        if item.kind == "event":
            session.add(SiteEventRow(site_id=site_id, item_id=item.id, at=item.at, body=item.body))
        elif item.kind == "counters":
            _upsert_counters(session, site_id, item)
        else:
            _upsert_status(session, site_id, item)
    return len(items), len(items) - len(fresh)


def touch(session: Session, site_ids: Iterable[str]) -> None:
    """Marks sites as heard from now (a poll or a report)."""
    now = utcnow()
    for site_id in site_ids:
        row = session.get(SiteStatusRow, site_id)
        if row is None:
            session.add(SiteStatusRow(site_id=site_id, last_seen_at=now))
        else:
            row.last_seen_at = now


def _upsert_status(session: Session, site_id: str, item: ReportItem) -> None:
    row = session.get(SiteStatusRow, site_id)
    if row is None:
        row = SiteStatusRow(site_id=site_id)
        session.add(row)
    if row.reported_at is not None and _naive(row.reported_at) > _naive(item.at):
        return  # an older status arriving late does not overwrite a newer one
    revision = item.body.get("revision")
    row.applied_revision = revision if isinstance(revision, int) else row.applied_revision or 0
    state = item.body.get("state")
    row.state = state if isinstance(state, str) and len(state) <= 16 else "unknown"
    row.body = item.body
    row.reported_at = item.at
    row.last_seen_at = utcnow()


def _upsert_counters(session: Session, site_id: str, item: ReportItem) -> None:
    row = session.get(SiteCountersRow, site_id)
    if row is None:
        session.add(SiteCountersRow(site_id=site_id, at=item.at, body=item.body))
    elif _naive(row.at) <= _naive(item.at):
        row.at, row.body = item.at, item.body


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _naive(moment: datetime) -> datetime:
    """UTC without a zone: SQLite hands back naive UTC, sites send aware times."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def get_status(session: Session, site_id: str) -> dict[str, Any]:
    """The site's desired and applied revisions, its last report, and when it was last heard."""
    desired = get_desired(session, site_id)
    row = session.get(SiteStatusRow, site_id)
    applied = row.applied_revision if row else 0
    return {
        "site_id": site_id,
        "desired_revision": desired.revision,
        "applied_revision": applied,
        "state": row.state if row else "unknown",
        "in_sync": applied == desired.revision and (row is not None and row.state == "converged"),
        "reported_at": row.reported_at if row else None,
        "last_seen_at": row.last_seen_at if row else None,
        "detail": row.body if row else {},
    }


def summarize(session: Session, principal: Principal) -> dict[str, Any]:
    """Counts of the caller's sites: total, enrolled, in sync, by reported state."""
    query = (
        select(
            SiteRow.id,
            SiteRow.cert_serial,
            DesiredStateRow.revision,
            SiteStatusRow.applied_revision,
            SiteStatusRow.state,
        )
        .outerjoin(DesiredStateRow, DesiredStateRow.site_id == SiteRow.id)
        .outerjoin(SiteStatusRow, SiteStatusRow.site_id == SiteRow.id)
        .where(visible(principal, SiteRow))
    )
    total = enrolled = in_sync = 0
    states: dict[str, int] = {}
    for _, serial, desired, applied, state in session.execute(query):
        total += 1
        enrolled += serial is not None
        in_sync += (desired or 0) == (applied or 0) and state == "converged"
        states[state or "unknown"] = states.get(state or "unknown", 0) + 1
    return {"total": total, "enrolled": enrolled, "inSync": in_sync, "states": states}
