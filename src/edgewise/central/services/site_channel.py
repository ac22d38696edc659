"""The central's half of the site channel: report intake (statuses, events, counters, each item
exactly once), and what the sites' reports say (status, fleet summary). Desired-state documents
are written by the orchestrator (orchestrator.documents) alone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from edgewise.central.services import announce, link_reports, telemetry
from edgewise.central.services.access import Principal, visible
from edgewise.central.services.alarms_policy import AlarmPolicy
from edgewise.central.services.alarms_reports import Reported, on_reports
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


MAX_REVISION = 2**31 - 1  # the store's revision columns (INTEGER: 32 bits on PostgreSQL)
EARLIEST_REPORT = datetime(2000, 1, 1, tzinfo=UTC)
AHEAD_SLACK = timedelta(days=1)  # how far a site's clock may run ahead of the central's
ITEM_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # sites send UUIDs
MAX_STATE = 16  # the status column's width


def parse_report_batch(
    body: object, *, max_items: int, now: datetime | None = None
) -> list[ReportItem]:
    """Validates a whole batch, every field of every item (what the store and the readers of
    reports rely on); any bad item refuses the batch, each problem named (nothing recorded)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
        raise Invalid('a report batch is {"items": [...]}', [InputProblem("items", "missing")])
    items = body["items"]
    if len(items) > max_items:
        raise Invalid(
            "the batch is too large",
            [InputProblem("items", f"{len(items)} items; at most {max_items} per batch")],
        )
    now = now or utcnow()
    problems: list[InputProblem] = []
    parsed: list[ReportItem] = []
    for index, item in enumerate(items):
        read = read_item(item, f"items[{index}]", now)
        if isinstance(read, ReportItem):
            parsed.append(read)
        else:
            problems.extend(read)
    if problems:
        raise Invalid("the report batch was refused; nothing was recorded", problems)
    return parsed


def read_item(item: object, where: str, now: datetime) -> ReportItem | list[InputProblem]:
    """One report item, or everything that is wrong with it."""
    if not isinstance(item, Mapping):
        return [InputProblem(where, "must be an object")]
    item_id, kind, at, payload = (item.get(k) for k in ("id", "kind", "at", "body"))
    problems: list[InputProblem] = []
    if not isinstance(item_id, str) or not ITEM_ID.fullmatch(item_id):
        problems.append(InputProblem(f"{where}.id", "must be 1-64 of A-Z a-z 0-9 . _ : -"))
    if kind not in REPORT_KINDS:
        problems.append(InputProblem(f"{where}.kind", f"must be one of {', '.join(REPORT_KINDS)}"))
    moment = _timestamp(at)
    if moment is None:
        problems.append(InputProblem(f"{where}.at", "must be an ISO 8601 time with a zone"))
    elif not EARLIEST_REPORT <= moment <= now + AHEAD_SLACK:
        problems.append(
            InputProblem(
                f"{where}.at",
                f"{at} is not between {EARLIEST_REPORT:%Y-%m-%d} and a day from now",
            )
        )
    if not isinstance(payload, dict):
        problems.append(InputProblem(f"{where}.body", "must be an object"))
    elif kind == "status":
        problems.extend(_status_problems(payload, f"{where}.body"))
    elif kind == "counters" and not isinstance(payload.get("services", {}), dict):
        problems.append(InputProblem(f"{where}.body.services", "must be an object"))
    if problems or not isinstance(item_id, str) or not isinstance(kind, str) or moment is None:
        return problems
    assert isinstance(payload, dict)  # refused above otherwise
    return ReportItem(item_id, kind, moment, payload)


def _status_problems(body: Mapping[str, Any], where: str) -> Iterator[InputProblem]:
    revision, state = body.get("revision", 0), body.get("state", "unknown")
    if isinstance(revision, bool) or not isinstance(revision, int):
        yield InputProblem(f"{where}.revision", "must be a whole number")
    elif not 0 <= revision <= MAX_REVISION:
        yield InputProblem(f"{where}.revision", f"{revision} is not within 0..{MAX_REVISION}")
    if not isinstance(state, str) or not 0 < len(state) <= MAX_STATE:
        yield InputProblem(f"{where}.state", f"must be a string of 1-{MAX_STATE} characters")
    services, error = body.get("services", []), body.get("error")
    if not isinstance(services, list) or not all(isinstance(s, dict) for s in services):
        yield InputProblem(f"{where}.services", "must be a list of objects")
    if error is not None and not isinstance(error, str):
        yield InputProblem(f"{where}.error", "must be a string or null")
    yield from link_reports.status_problems(body, where)


def record_reports(session: Session, site_id: str, items: Sequence[ReportItem]) -> tuple[int, int]:
    """Records one site's new items exactly once; returns (accepted, duplicates)."""
    (result,) = record_batches(session, [(site_id, items)])
    return result


OverlayChange = Callable[[Session, set[str]], object]
DEFAULT_POLICY = AlarmPolicy()


def record_batches(
    session: Session,
    batches: Sequence[tuple[str, Sequence[ReportItem]]],
    on_overlay_change: OverlayChange | None = None,
    alarm_policy: AlarmPolicy = DEFAULT_POLICY,
) -> list[tuple[int, int]]:
    """Records many sites' batches in a handful of statements; each item exactly once.

    Returns (accepted, duplicates) per batch. An item id seen before (or twice in this
    call) is a duplicate: delivery is at least once, the effect exactly once. Sites whose
    status changed an overlay key or a link's address are handed to `on_overlay_change` in
    the same transaction (the central recomposes their overlay peers' documents); the alarms
    the new statuses and events raise or clear are too (services.alarms_reports).
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
    telemetry.record_links(connection, [(s, i.kind, i.at, i.body) for s, i in fresh])
    applied: list[Reported] = []
    statuses = [(s, i) for s, i in fresh if i.kind == "status"]
    changed = _latest_statuses(session, statuses, now, applied)
    if changed and on_overlay_change is not None:
        on_overlay_change(session, changed)
    _latest_counters(session, [(s, i) for s, i in fresh if i.kind == "counters"])
    happened = [Reported(s, i.at, i.body) for s, i in fresh if i.kind == "event"]
    on_reports(session, applied, happened, now, alarm_policy)
    return results


def _newest(items: Sequence[tuple[str, ReportItem]]) -> dict[str, ReportItem]:
    newest: dict[str, ReportItem] = {}
    for site_id, item in items:
        if site_id not in newest or _naive(newest[site_id].at) <= _naive(item.at):
            newest[site_id] = item
    return newest


def _latest_statuses(
    session: Session,
    items: Sequence[tuple[str, ReportItem]],
    now: datetime,
    applied: list[Reported],
) -> set[str]:
    """Keeps each site's newest status: an older one arriving late changes nothing (those kept
    are added to `applied`). Returns the sites whose links' addresses or overlay keys
    changed."""
    newest = _newest(items)
    changed: set[str] = set()
    if not newest:
        return changed
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
        applied.append(Reported(site_id, item.at, item.body))
        if link_reports.record(session, site_id, item.body, item.at):
            changed.add(site_id)
    return changed


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
    """The site's latest counters report: per service, per VNF, what the data plane counts;
    per real-time policy rule, its matches, sources flagged now and packets dropped."""
    row = session.get(SiteCountersRow, site_id)
    if row is None:
        return {"siteId": site_id, "at": None, "services": {}, "policy": {}}
    wan = row.body.get("wan")
    policy = wan.get("policy", {}) if isinstance(wan, dict) else {}
    return {"siteId": site_id, "at": row.at, "services": row.body.get("services", {}),
            "policy": policy}  # fmt: skip


def touch(session: Session, site_ids: Iterable[str], at: datetime | None = None) -> None:
    """Marks sites as heard from at `at` (now by default), in bulk; a later mark already there
    stays (marks written late, or by another replica, never move a site's back)."""
    moment = at or utcnow()
    status = SiteStatusRow
    for chunk in chunks(sorted(set(site_ids))):
        session.execute(
            update(status)
            .where(status.site_id.in_(chunk),
                   or_(status.last_seen_at.is_(None), status.last_seen_at < moment))
            .values(last_seen_at=moment)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        unreported = session.scalars(
            select(SiteRow.id).where(
                SiteRow.id.in_(chunk), ~exists().where(status.site_id == SiteRow.id)
            )
        ).all()
        if unreported:
            session.connection().execute(
                insert(table_of(status)),
                [{"site_id": site_id, "last_seen_at": moment, "body": {}}
                 for site_id in unreported],
            )  # fmt: skip


def _timestamp(value: object) -> datetime | None:
    """An ISO 8601 time with a zone, in UTC; None for anything else (or out of datetime's range)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
        return moment.astimezone(UTC) if moment.tzinfo else None
    except (ValueError, OverflowError):  # 9999-12-31T23:59:59-01:00 is past year 9999 in UTC
        return None


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
