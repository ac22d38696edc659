"""The console's dashboard (`web.dashboard`): the caller's figures as server-side aggregates
(COUNT ... GROUP BY, never the rows), each scoped by `services.access`: sites by presence and
sync state, active alarms by severity (root causes apart), operations in flight, rollouts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, visible
from edgewise.central.services.alarm_terms import Severity
from edgewise.central.services.site_pages import count_sites
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.tables import NsLcmOpOccRow, RolloutRow, RolloutSiteRow, utcnow

# the states of `orchestrator.states.OpState` and `orchestrator.rollouts.RolloutState` that are
# not final (services sit below the orchestrator: the names, not the enums)
IN_FLIGHT: Final = ("PROCESSING", "FAILED_TEMP", "ROLLING_BACK")
LIVE_ROLLOUTS: Final = ("RUNNING", "PAUSED")
SITE_STATES: Final = ("PENDING", "RUNNING", "DONE", "FAILED", "SKIPPED")
MAX_ROLLOUTS: Final = 10


@dataclass(frozen=True)
class AlarmFigure:
    """Active alarms of one severity: the root causes, and the alarms correlated to one."""

    severity: str
    roots: int
    correlated: int


@dataclass(frozen=True)
class RolloutFigure:
    id: str
    name: str
    state: str
    wave: int  # 1-based
    waves: int
    total: int
    sites: dict[str, int]  # PENDING, RUNNING, DONE, FAILED, SKIPPED

    @property
    def finished(self) -> int:
        return self.sites["DONE"] + self.sites["FAILED"] + self.sites["SKIPPED"]

    @property
    def percent(self) -> int:
        return round(100 * self.finished / self.total) if self.total else 100


@dataclass(frozen=True)
class Overview:
    sites: dict[str, int]  # presence and sync state -> count, and "total"
    alarms: tuple[AlarmFigure, ...]  # most severe first
    operations: dict[str, int]  # in-flight state -> count
    rollouts: tuple[RolloutFigure, ...]  # running and paused, newest first
    rollouts_live: int  # how many are running or paused (rollouts shows at most MAX_ROLLOUTS)


def overview(session: Session, principal: Principal, now: datetime | None = None) -> Overview:
    """What the caller's dashboard shows: an operator's the whole fleet's, a tenant's its own."""
    live, shown = live_rollouts(session, principal)
    return Overview(
        count_sites(session, principal, now or utcnow()),
        alarms_by_severity(session, principal),
        operations_in_flight(session, principal),
        shown,
        live,
    )


def alarms_by_severity(session: Session, principal: Principal) -> tuple[AlarmFigure, ...]:
    query = (
        select(AlarmRow.severity, AlarmRow.is_root_cause, func.count())
        .where(AlarmRow.cleared_at.is_(None), visible(principal, AlarmRow))
        .group_by(AlarmRow.severity, AlarmRow.is_root_cause)
    )
    found: dict[tuple[str, bool], int] = {}
    for severity, root, count in session.execute(query):
        found[(severity, bool(root))] = int(count)
    return tuple(
        AlarmFigure(s.value, found.get((s.value, True), 0), found.get((s.value, False), 0))
        for s in Severity
        if s is not Severity.CLEARED
    )


def operations_in_flight(session: Session, principal: Principal) -> dict[str, int]:
    query = (
        select(NsLcmOpOccRow.state, func.count())
        .where(NsLcmOpOccRow.state.in_(IN_FLIGHT), visible(principal, NsLcmOpOccRow))
        .group_by(NsLcmOpOccRow.state)
    )
    found = {state: int(count) for state, count in session.execute(query)}
    return {state: found.get(state, 0) for state in IN_FLIGHT}


def live_rollouts(
    session: Session, principal: Principal, *, limit: int = MAX_ROLLOUTS
) -> tuple[int, tuple[RolloutFigure, ...]]:
    """How many rollouts run or pause, and the newest `limit` of them with their progress."""
    where = (RolloutRow.state.in_(LIVE_ROLLOUTS), visible(principal, RolloutRow))
    total = session.scalar(select(func.count()).select_from(RolloutRow).where(*where)) or 0
    rows = list(
        session.scalars(
            select(RolloutRow)
            .where(*where)
            .order_by(RolloutRow.created_at.desc(), RolloutRow.id)
            .limit(limit)
        )
    )
    sites: dict[str, dict[str, int]] = {r.id: dict.fromkeys(SITE_STATES, 0) for r in rows}
    by_state = session.execute(
        select(RolloutSiteRow.rollout_id, RolloutSiteRow.state, func.count())
        .where(RolloutSiteRow.rollout_id.in_(list(sites)))
        .group_by(RolloutSiteRow.rollout_id, RolloutSiteRow.state)
    )
    for rollout_id, state, count in by_state:
        sites[rollout_id][state] = int(count)
    shown = tuple(
        RolloutFigure(r.id, r.name, r.state, r.wave + 1, r.waves, r.total, sites[r.id])
        for r in rows
    )
    return int(total), shown
