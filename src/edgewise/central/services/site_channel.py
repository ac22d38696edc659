"""The central's half of the site channel: report intake (statuses, events, counters, each item
exactly once), and what the sites' reports say (status, fleet summary). Desired-state documents
are written by the orchestrator (orchestrator.documents) alone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.orm import Session

from edgewise.central.services import announce
from edgewise.central.services.access import Principal, visible
from edgewise.central.services.errors import InputProblem, Invalid, NotFound
from edgewise.central.services.views import SiteStatus, in_sync_now
from edgewise.central.store.bulk import chunks, table_of
from edgewise.central.store.tables import (
    DesiredStateRow,
    ReportItemRow,
    SiteCountersRow,
    SiteEventRow,
    SiteRow,
    SiteStatusRow,
    aware_or_none,
    utcnow,
)
from edgewise.model.sites import Presence

REPORT_KINDS = ("status", "event", "counters")


@dataclass(frozen=True)
class ReportItem:
    """One validated report item from a site."""

    id: str
    kind: str
    at: datetime
    body: dict[str, Any]


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
    """Records one site's new items exactly once; returns (accepted, duplicates)."""
    (result,) = record_batches(session, [(site_id, items)])
    return result


def record_batches(
    session: Session, batches: Sequence[tuple[str, Sequence[ReportItem]]]
) -> list[tuple[int, int]]:
    """Records many sites' batches in a handful of statements; each item exactly once.

    Returns (accepted, duplicates) per batch. An item id seen before (or twice in this
    call) is a duplicate: delivery is at least once, the effect exactly once.
    """
    pairs = list(dict.fromkeys((site_id, item.id) for site_id, items in batches for item in items))
    seen: set[tuple[str, str]] = set()
    for start in range(0, len(pairs), 400):
        chunk = pairs[start : start + 400]
        seen.update(
            session.execute(
                select(ReportItemRow.site_id, ReportItemRow.item_id).where(
                    tuple_(ReportItemRow.site_id, ReportItemRow.item_id).in_(chunk)
                )
            ).all()
        )
    results: list[tuple[int, int]] = []
    fresh: list[tuple[str, ReportItem]] = []
    for site_id, items in batches:
        new = 0
        for item in items:
            if (site_id, item.id) not in seen:
                seen.add((site_id, item.id))
                fresh.append((site_id, item))
                new += 1
        results.append((len(items), len(items) - new))
    if not fresh:
        return results
    now = utcnow()
    # Core executemany on the tables: the ORM's bulk bookkeeping cost a third of a report wave.
    connection = session.connection()
    connection.execute(
        insert(table_of(ReportItemRow)),
        [{"site_id": s, "item_id": i.id, "kind": i.kind, "at": i.at, "received_at": now}
         for s, i in fresh],
    )  # fmt: skip
    events = [{"site_id": s, "item_id": i.id, "at": i.at, "body": i.body}
              for s, i in fresh if i.kind == "event"]  # fmt: skip
    if events:
        connection.execute(insert(table_of(SiteEventRow)), events)
    _latest_statuses(session, [(s, i) for s, i in fresh if i.kind == "status"], now)
    _latest_counters(session, [(s, i) for s, i in fresh if i.kind == "counters"])
    return results


def _newest(items: Sequence[tuple[str, ReportItem]]) -> dict[str, ReportItem]:
    newest: dict[str, ReportItem] = {}
    for site_id, item in items:
        if site_id not in newest or _naive(newest[site_id].at) <= _naive(item.at):
            newest[site_id] = item
    return newest


def _latest_statuses(
    session: Session, items: Sequence[tuple[str, ReportItem]], now: datetime
) -> None:
    """Keeps each site's newest status: an older one arriving late changes nothing."""
    newest = _newest(items)
    if not newest:
        return
    announce.work_queued(session, announce.STATUSES)
    rows = {
        row.site_id: row
        for row in session.scalars(select(SiteStatusRow).where(SiteStatusRow.site_id.in_(newest)))
    }
    for site_id, item in newest.items():
        row = rows.get(site_id)
        if row is None:
            row = SiteStatusRow(site_id=site_id, applied_revision=0)
            session.add(row)
        elif row.reported_at is not None and _naive(row.reported_at) > _naive(item.at):
            continue
        revision = item.body.get("revision")
        if isinstance(revision, int) and not isinstance(revision, bool):
            row.applied_revision = revision
        state = item.body.get("state")
        row.state = state if isinstance(state, str) and len(state) <= 16 else "unknown"
        row.body = item.body
        row.reported_at = item.at
        row.last_seen_at = now


def _latest_counters(session: Session, items: Sequence[tuple[str, ReportItem]]) -> None:
    newest = _newest(items)
    if not newest:
        return
    rows = {
        row.site_id: row
        for row in session.scalars(
            select(SiteCountersRow).where(SiteCountersRow.site_id.in_(newest))
        )
    }
    for site_id, item in newest.items():
        row = rows.get(site_id)
        if row is None:
            session.add(SiteCountersRow(site_id=site_id, at=item.at, body=item.body))
        elif _naive(row.at) <= _naive(item.at):
            row.at, row.body = item.at, item.body


def get_counters(session: Session, site_id: str) -> dict[str, Any]:
    """The site's latest counters report: per service, per VNF, what the data plane counts."""
    row = session.get(SiteCountersRow, site_id)
    if row is None:
        return {"siteId": site_id, "at": None, "services": {}}
    return {"siteId": site_id, "at": row.at, "services": row.body.get("services", {})}


def touch(session: Session, site_ids: Iterable[str]) -> None:
    """Marks sites as heard from now (a poll or a report), in bulk."""
    now = utcnow()
    for chunk in chunks(list(site_ids)):
        updated = set(
            session.execute(
                update(SiteStatusRow)
                .where(SiteStatusRow.site_id.in_(chunk))
                .values(last_seen_at=now)
                .returning(SiteStatusRow.site_id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )
        missing = [site_id for site_id in chunk if site_id not in updated]
        existing = session.scalars(select(SiteRow.id).where(SiteRow.id.in_(missing))).all()
        if existing:
            session.connection().execute(
                insert(table_of(SiteStatusRow)),
                [{"site_id": site_id, "last_seen_at": now, "body": {}} for site_id in existing],
            )


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


def get_status(session: Session, site_id: str) -> SiteStatus:
    """The site's desired and applied revisions, its last report, and when it was last heard."""
    desired = (
        session.scalar(select(DesiredStateRow.revision).where(DesiredStateRow.site_id == site_id))
        or 0
    )
    site = session.get(SiteRow, site_id)
    if site is None:
        raise NotFound(f"site {site_id} does not exist")
    return SiteStatus.of(site, desired)


def summarize(session: Session, principal: Principal) -> dict[str, Any]:
    """Counts of the caller's sites: total, enrolled, by presence, in sync (online, converged,
    at the desired revision), by reported state."""
    query = (
        select(
            SiteRow.id,
            SiteRow.cert_serial,
            DesiredStateRow.revision,
            SiteStatusRow.applied_revision,
            SiteStatusRow.state,
            SiteRow.enrolled_at,
            SiteStatusRow.last_seen_at,
        )
        .outerjoin(DesiredStateRow, DesiredStateRow.site_id == SiteRow.id)
        .outerjoin(SiteStatusRow, SiteStatusRow.site_id == SiteRow.id)
        .where(visible(principal, SiteRow))
    )
    total = enrolled = in_sync = 0
    states: dict[str, int] = {}
    presences = dict.fromkeys((p.value for p in Presence), 0)
    now = utcnow()
    for _, serial, desired, applied, state, enrolled_at, seen in session.execute(query):
        presence = Presence.of(aware_or_none(enrolled_at), aware_or_none(seen), now)
        total += 1
        enrolled += serial is not None
        presences[presence.value] += 1
        in_sync += in_sync_now(presence, desired or 0, applied or 0, state)
        states[state or "unknown"] = states.get(state or "unknown", 0) + 1
    return {
        "total": total,
        "enrolled": enrolled,
        "presence": presences,
        "inSync": in_sync,
        "states": states,
    }
