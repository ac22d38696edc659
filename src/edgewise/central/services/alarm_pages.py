"""The portals' reads of alarms (`web.alarms`): a filtered page with the root causes first, and
the root-cause tree of an alarm, scoped like the fault API (`services.access`). Acknowledging
is `services.alarm_queries.acknowledge`, the same call as nsfm's PATCH."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, visible
from edgewise.central.services.alarm_queries import read_alarm
from edgewise.central.services.alarm_queries_view import Alarm, alarms_of
from edgewise.central.services.alarm_terms import AckState, Kind, Severity
from edgewise.central.services.errors import InputProblem, Invalid
from edgewise.central.services.paging import Page, decode_marker, encode_marker
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.tables import SiteRow

ID_MAX: Final = 36
CHILDREN_SHOWN: Final = 50  # correlated alarms listed under one root (the count says the rest)


@dataclass(frozen=True)
class AlarmFilter:
    """What the alarms page is asked for; `check` names the field a bad value came in."""

    severity: str = ""
    kind: str = ""
    state: str = ""  # "active", "cleared" or "" (both)
    ack: str = ""  # "yes", "no" or "" (both)
    site_id: str = ""
    root: str = ""  # "yes" (root causes), "no" (the alarms they explain) or "" (both)

    def check(self) -> None:
        problems = []
        if self.severity and self.severity not in Severity.__members__:
            problems.append(InputProblem("severity", f"not one of {', '.join(Severity)}"))
        if self.kind and self.kind not in Kind.__members__:
            problems.append(InputProblem("kind", f"not one of {', '.join(Kind)}"))
        if self.state not in ("", "active", "cleared"):
            problems.append(InputProblem("state", "not one of active, cleared"))
        if self.ack not in ("", "yes", "no"):
            problems.append(InputProblem("ack", "not one of yes, no"))
        if self.root not in ("", "yes", "no"):
            problems.append(InputProblem("root", "not one of yes, no"))
        if len(self.site_id) > ID_MAX:
            problems.append(InputProblem("site", f"a site id has at most {ID_MAX} characters"))
        if problems:
            raise Invalid("the alarm filter is not valid", problems)

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.severity:
            clauses.append(AlarmRow.severity == self.severity)
        if self.kind:
            clauses.append(AlarmRow.kind == self.kind)
        if self.state:
            cleared = AlarmRow.cleared_at
            clauses.append(cleared.is_(None) if self.state == "active" else cleared.is_not(None))
        if self.ack:
            acked = AckState.ACKNOWLEDGED.value
            clauses.append(
                AlarmRow.ack_state == acked if self.ack == "yes" else AlarmRow.ack_state != acked
            )
        if self.site_id:
            clauses.append(AlarmRow.site_id == self.site_id)
        if self.root:
            clauses.append(AlarmRow.is_root_cause.is_(self.root == "yes"))
        return clauses


@dataclass(frozen=True)
class AlarmTree:
    """An alarm's place in the root-cause tree: its root (itself when it is one) and the
    alarms that root explains (at most CHILDREN_SHOWN of `explained_count`)."""

    alarm: Alarm
    root: Alarm
    explained: tuple[Alarm, ...]
    explained_count: int


def _rank() -> ColumnElement[int]:
    """0 for a root cause, 1 for a correlated alarm: roots sort first."""
    return case((AlarmRow.is_root_cause, 0), else_=1)


def list_page(
    session: Session,
    principal: Principal,
    filters: AlarmFilter,
    *,
    marker: str | None,
    limit: int,
) -> Page[Alarm]:
    """One page of the alarms `principal` sees that match `filters`: root causes first, then
    the newest first (a keyset page: markers hold the last row's rank, time and id)."""
    filters.check()
    query = select(AlarmRow).where(visible(principal, AlarmRow), *filters.where())
    if marker:
        rank, raised, last = decode_marker(marker, (int, datetime, str))
        query = query.where(_after(rank, raised, last))
    query = query.order_by(_rank(), AlarmRow.raised_at.desc(), AlarmRow.id).limit(limit + 1)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    following = None
    if more:
        last_row = rows[-1]
        rank_of = 0 if last_row.is_root_cause else 1
        following = encode_marker([rank_of, last_row.raised_at, last_row.id])
    return Page(tuple(_seen_only(session, principal, alarms_of(session, rows))), following)


def _seen_only(session: Session, principal: Principal, alarms: list[Alarm]) -> list[Alarm]:
    """The alarms with only the correlated alarms `principal` sees (a tenant's alarm may have
    the operator's alarm as its root: its id is not the tenant's to know)."""
    if principal.is_admin:
        return alarms
    named = sorted({other for alarm in alarms for other in alarm.correlated})
    seen: set[str] = set()
    for start in range(0, len(named), 500):  # bounded IN lists
        chunk = named[start : start + 500]
        seen.update(
            session.scalars(
                select(AlarmRow.id).where(AlarmRow.id.in_(chunk), visible(principal, AlarmRow))
            )
        )
    return [replace(a, correlated=tuple(c for c in a.correlated if c in seen)) for a in alarms]


def _after(rank: int, raised: datetime, last: str) -> ColumnElement[bool]:
    same_time = and_(AlarmRow.raised_at == raised, AlarmRow.id > last)
    return or_(
        _rank() > rank,
        and_(_rank() == rank, or_(AlarmRow.raised_at < raised, same_time)),
    )


def explained_by(
    session: Session, principal: Principal, roots: Sequence[Alarm]
) -> dict[str, tuple[tuple[Alarm, ...], int]]:
    """For each root (as read for `principal`: its `correlated` are the alarms it explains
    that the caller sees): at most CHILDREN_SHOWN of those alarms, newest first, and how many
    there are. One query per 500 alarms shown, whatever the number of roots."""
    wanted = [c for root in roots if root.is_root_cause for c in root.correlated[:CHILDREN_SHOWN]]
    rows: list[AlarmRow] = []
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start : start + 500]
        rows.extend(
            session.scalars(
                select(AlarmRow).where(AlarmRow.id.in_(chunk), visible(principal, AlarmRow))
            )
        )
    rows.sort(key=lambda row: (row.raised_at, row.id), reverse=True)
    by_root: dict[str, list[Alarm]] = {}
    for child in alarms_of(session, rows):
        by_root.setdefault(child.correlated[0] if child.correlated else "", []).append(child)
    return {
        root.id: (tuple(by_root[root.id]), len(root.correlated))
        for root in roots
        if root.id in by_root
    }


def tree_of(session: Session, principal: Principal, alarm_id: str) -> AlarmTree:
    """The alarm (NotFound unless `principal` sees it), its root and what that root explains;
    a root the caller may not see (the operator's, over a tenant's alarm) is not shown."""
    alarm = read_alarm(session, principal, alarm_id)
    root = alarm
    if not alarm.is_root_cause and alarm.correlated:
        root = read_alarm(session, principal, alarm.correlated[0])
    children, count = explained_by(session, principal, [root]).get(root.id, ((), 0))
    return AlarmTree(alarm, root, children, count)


def site_names(session: Session, principal: Principal, site_ids: Sequence[str]) -> dict[str, str]:
    """The names of the sites `principal` sees among `site_ids` (what a page shows)."""
    wanted = sorted({s for s in site_ids if s})[:500]
    if not wanted:
        return {}
    rows = session.execute(
        select(SiteRow.id, SiteRow.name).where(SiteRow.id.in_(wanted), visible(principal, SiteRow))
    )
    return {str(site_id): str(name) for site_id, name in rows}
