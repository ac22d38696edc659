"""The console's sites list (`web.sites`): presence and sync state as SQL (the definitions of
`Presence.of` and `views.in_sync_now`, as `metrics.fleet` writes them), filters and keyset pages
read in the store, and a site's recent events; every query scoped by `services.access`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, selectinload

from edgewise.central.services.access import Principal, scoped, visible
from edgewise.central.services.paging import Page, decode_marker, encode_marker, fetch_page
from edgewise.central.services.sites import get_site
from edgewise.central.services.views import Site
from edgewise.central.store.tables import (
    DesiredStateRow,
    SiteEventRow,
    SiteRow,
    SiteStatusRow,
    TenantRow,
    utcnow,
)
from edgewise.model.sites import OFFLINE_AFTER, Presence, SiteKind

PAGE_SIZE: Final = 50


class SyncState(StrEnum):
    """Where an enrolled site stands against its desired revision: in sync (online, converged,
    at the desired revision), failed (it said it could not apply: `degraded`), or behind (any
    other enrolled site: offline, still applying, or not told yet)."""

    IN_SYNC = "in-sync"
    BEHIND = "behind"
    FAILED = "failed"


def presence_of(now: datetime) -> ColumnElement[str]:
    """A site's presence as SQL (the query must outer-join `SiteStatusRow`)."""
    cutoff = now - OFFLINE_AFTER
    return case(
        (SiteRow.enrolled_at.is_(None), literal(Presence.NEVER_ENROLLED.value)),
        (
            or_(SiteRow.enrolled_at >= cutoff, SiteStatusRow.last_seen_at >= cutoff),
            literal(Presence.ONLINE.value),
        ),
        else_=literal(Presence.OFFLINE.value),
    )


def sync_of(now: datetime) -> ColumnElement[str | None]:
    """An enrolled site's sync state as SQL, NULL for a site never enrolled (the query must
    outer-join `SiteStatusRow` and `DesiredStateRow`)."""
    cutoff = now - OFFLINE_AFTER
    online = or_(SiteRow.enrolled_at >= cutoff, SiteStatusRow.last_seen_at >= cutoff)
    at_desired = func.coalesce(DesiredStateRow.revision, 0) == func.coalesce(
        SiteStatusRow.applied_revision, 0
    )
    return case(
        (SiteRow.enrolled_at.is_(None), literal(None)),
        (
            and_(online, at_desired, SiteStatusRow.state == "converged"),
            literal(SyncState.IN_SYNC.value),
        ),
        (SiteStatusRow.state == "degraded", literal(SyncState.FAILED.value)),
        else_=literal(SyncState.BEHIND.value),
    )


QueryT = TypeVar("QueryT", bound=Select[*tuple[Any, ...]])


def with_state(query: QueryT) -> QueryT:
    """The query with each site's status and desired state beside it (for the SQL above)."""
    return query.outerjoin(SiteStatusRow, SiteStatusRow.site_id == SiteRow.id).outerjoin(
        DesiredStateRow, DesiredStateRow.site_id == SiteRow.id
    )


@dataclass(frozen=True)
class SiteFilter:
    """What the list shows: every site the caller sees that has all of `labels`, of `kind`,
    with `presence` and `sync`, of tenant `tenant_id` (an operator's filter), whose name starts
    with `name_prefix`."""

    labels: Mapping[str, str] = field(default_factory=dict)
    kind: SiteKind | None = None
    presence: Presence | None = None
    sync: SyncState | None = None
    tenant_id: str | None = None
    name_prefix: str | None = None


@dataclass(frozen=True)
class SiteLine:
    """One line of the list: the site and its sync state (None: never enrolled)."""

    site: Site
    sync: SyncState | None


def list_sites(
    session: Session,
    principal: Principal,
    wanted: SiteFilter,
    *,
    marker: str | None,
    backwards: bool = False,
    limit: int = PAGE_SIZE,
) -> tuple[Page[SiteLine], str | None]:
    """A page of the sites `wanted` names, by (name, id), after `marker` (or before it when
    `backwards`); the page and the marker of the page before it (None on the first)."""
    now = utcnow()
    sync = sync_of(now)
    query = with_state(scoped(select(SiteRow), principal, SiteRow))
    query = query.options(selectinload(SiteRow.status))
    query = _filtered(query, wanted, now, sync)
    order = (SiteRow.name, SiteRow.id)
    if backwards and marker:
        rows = _before(session, query, marker, limit)
    else:
        rows = fetch_page(session, query, order, marker=marker, limit=limit)
    states = _sync_states(session, [row.id for row in rows.items], sync)
    lines = tuple(SiteLine(Site.of(row), states.get(row.id)) for row in rows.items)
    previous = None
    if rows.items and (marker or backwards):
        first = rows.items[0]
        earlier = query.where(
            or_(SiteRow.name < first.name, and_(SiteRow.name == first.name, SiteRow.id < first.id))
        )
        if session.scalar(earlier.with_only_columns(SiteRow.id).limit(1)) is not None:
            previous = encode_marker([first.name, first.id])
    following = rows.next_marker
    if backwards and marker and following is None and rows.items:
        last = rows.items[-1]
        following = encode_marker([last.name, last.id])
    return Page(lines, following), previous


def tenant_names(session: Session, principal: Principal, ids: set[str]) -> dict[str, str]:
    """The names of the tenants `ids` that the caller sees (the list shows names, not ids)."""
    if not ids:
        return {}
    query = select(TenantRow.id, TenantRow.name).where(
        TenantRow.id.in_(sorted(ids)), visible(principal, TenantRow)
    )
    return {row.id: row.name for row in session.execute(query)}


def _filtered(
    query: Select[Any], wanted: SiteFilter, now: datetime, sync: ColumnElement[str | None]
) -> Select[Any]:
    for key, value in wanted.labels.items():
        query = query.where(SiteRow.labels[key].as_string() == value)
    if wanted.kind is not None:
        query = query.where(SiteRow.kind == wanted.kind.value)
    if wanted.presence is not None:
        query = query.where(presence_of(now) == wanted.presence.value)
    if wanted.sync is not None:
        query = query.where(sync == wanted.sync.value)
    if wanted.tenant_id is not None:
        query = query.where(SiteRow.tenant_id == wanted.tenant_id)
    if wanted.name_prefix:
        # a range on the name, not LIKE: no wildcard to escape, and an index on it serves it
        query = query.where(
            SiteRow.name >= wanted.name_prefix, SiteRow.name < wanted.name_prefix + "\U0010ffff"
        )
    return query


def _before(session: Session, query: Select[Any], marker: str, limit: int) -> Page[Any]:
    """The `limit` rows just before the marker's row, in (name, id) order."""
    name, site_id = decode_marker(marker, [str, str])
    query = query.where(
        or_(SiteRow.name < name, and_(SiteRow.name == name, SiteRow.id < site_id))
    ).order_by(SiteRow.name.desc(), SiteRow.id.desc())
    rows = list(session.scalars(query.limit(limit)))
    rows.reverse()
    last = rows[-1] if rows else None
    return Page(tuple(rows), encode_marker([last.name, last.id]) if last else None)


def _sync_states(
    session: Session, site_ids: list[str], sync: ColumnElement[str | None]
) -> dict[str, SyncState]:
    if not site_ids:
        return {}
    query = with_state(select(SiteRow.id, sync).select_from(SiteRow)).where(
        SiteRow.id.in_(site_ids)
    )
    return {site_id: SyncState(state) for site_id, state in session.execute(query) if state}


def count_sites(session: Session, principal: Principal, now: datetime) -> dict[str, int]:
    """The caller's sites by presence and by sync state, in one GROUP BY (the dashboard):
    `{"online": n, ..., "in-sync": n, "behind": n, "failed": n, "total": n}`."""
    presence, sync = presence_of(now), sync_of(now)
    query = (
        with_state(select(presence, sync, func.count()).select_from(SiteRow))
        .where(visible(principal, SiteRow))
        .group_by(presence, sync)
    )
    found = dict.fromkeys([p.value for p in Presence] + [s.value for s in SyncState], 0)
    found["total"] = 0
    for where, state, count in session.execute(query):
        found[where] += int(count)
        found["total"] += int(count)
        if state:
            found[state] += int(count)
    return found


@dataclass(frozen=True)
class SiteEvent:
    at: datetime
    kind: str
    body: Mapping[str, Any]


def recent_events(
    session: Session, principal: Principal, site_id: str, *, limit: int = 20
) -> list[SiteEvent]:
    """The site's latest events (what its controller reported), newest first."""
    get_site(session, principal, site_id)
    rows = session.execute(
        select(SiteEventRow.at, SiteEventRow.body)
        .where(SiteEventRow.site_id == site_id)
        .order_by(SiteEventRow.id.desc())
        .limit(min(limit, 100))
    )
    return [SiteEvent(at, str(body.get("event") or "event"), body)
            for at, body in rows]  # fmt: skip
