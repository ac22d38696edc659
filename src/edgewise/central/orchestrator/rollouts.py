"""Rollouts: an NSD rolled out to a fleet — the sites a label selector or a site group names —
in waves of `batch_size` sites, each site with its own NS instance (so that it can be healed,
updated or removed alone). A site whose NS instance (the rollout's tenant's, on that site alone)
is of another version of the NSD — the same invariant id — has it updated to this version
(ASSOC_NEW_NSD_VERSION) instead of getting a second one; a site already on this version is
DONE at once; one whose instance has an operation in progress is SKIPPED.

The sites are chosen when the rollout is created (placement: labels, kind, free slots; the
others are kept with their reason). `advance`, run by every replica's tracker, moves RUNNING
rollouts on: it settles the sites of the wave in progress from their operations, pauses the
rollout when more than `max_failures` sites failed since it was (re)started, and otherwise
starts the next wave. pause / resume / abort are the operator's; state lives in the store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import documents, software, waves
from edgewise.central.orchestrator.instances import owner_of_new_instance
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.placing import candidates
from edgewise.central.services.access import Principal, ensure_writable, get_visible, visible
from edgewise.central.services.catalog import CatalogKind, get_item
from edgewise.central.services.errors import Conflict, InputProblem, Invalid, NotFound
from edgewise.central.services.sites import get_group
from edgewise.central.store.tables import (
    CatalogItemRow,
    NsLcmOpOccRow,
    RolloutRow,
    RolloutSiteRow,
    SiteGroupMemberRow,
    SiteRow,
    aware,
    utcnow,
)
from edgewise.model import placement
from edgewise.tosca.siteservice import UNASSIGNED

MAX_REJECTIONS_KEPT = 50
SETTLED = {
    "COMPLETED": "DONE",
    "FAILED_TEMP": "FAILED",
    "FAILED": "FAILED",
    "ROLLED_BACK": "FAILED",
}


class RolloutState(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    ABORTED = "ABORTED"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class Rollout:
    """The live view of a rollout: its state, waves, how many sites are where, the first
    failures and the sites not chosen with the reason."""

    id: str
    name: str
    nsd_info_id: str
    tenant_id: str | None
    state: str
    reason: str | None
    batch_size: int
    max_failures: int
    total: int
    waves: int
    wave: int  # 1-based
    sites: dict[str, int]
    failed: list[dict[str, Any]]
    not_chosen: list[dict[str, Any]]
    created_at: datetime


def view(session: Session, row: RolloutRow) -> Rollout:
    return Rollout(
        row.id, row.name, row.nsd_info_id, row.tenant_id, row.state, row.reason,
        row.batch_size, row.max_failures, row.total, row.waves, row.wave + 1,
        counts(session, row.id), failed_sites(session, row.id), list(row.rejected),
        aware(row.created_at),
    )  # fmt: skip


@dataclass(frozen=True)
class Target:
    """Which sites: a label selector and/or a site group, optionally one kind of site."""

    selector: placement.Request
    group_id: str | None = None


def create(
    session: Session,
    principal: Principal,
    nsds: NsdModels,
    *,
    name: str,
    nsd_info_id: str,
    target: Target,
    batch_size: int,
    max_failures: int,
    tenant_id: str | None = None,
) -> Rollout:
    """Chooses the sites now and starts RUNNING; the first wave starts on the next advance."""
    ns_owner = owner_of_new_instance(session, principal, nsd_info_id, tenant_id)
    nsd = get_item(session, principal, CatalogKind.NSD, nsd_info_id)
    model = nsds.load(nsd)  # a site must be able to run it: 422 now, not a wave that fails
    vnfs = software.resolve(session, nsds, nsd, model, ns_owner)
    documents.service_entry(model, service_id=UNASSIGNED, name=name, software=vnfs)
    slots = max(1, len(model.vnf_profiles))
    sites = session.scalars(select(SiteRow.id).where(visible(principal, SiteRow))).all()
    upgraded = [ns.id for ns in waves.versions_on(session, nsds, nsd, ns_owner, sites).values()]
    found = candidates(session, principal, upgraded)  # their slots are reused
    if target.group_id is not None:
        try:  # another tenant's group answers as a group that does not exist
            group = get_group(session, principal, target.group_id)
        except NotFound as missing:
            raise Invalid(
                "the site group does not exist",
                [InputProblem("group", f"{target.group_id}: no such site group")],
            ) from missing
        members = set(
            session.scalars(
                select(SiteGroupMemberRow.site_id).where(SiteGroupMemberRow.group_id == group.id)
            )
        )
        if not members:
            raise Invalid(
                "the site group is empty",
                [InputProblem("group", f"{target.group_id}: no site to roll out to")],
            )
        found = [c for c in found if c.id in members]
    request = replace(target.selector, slots=slots, tenant_id=ns_owner, sites=(), count=None)
    plan = placement.place(request, found)
    if not plan.chosen:
        raise Invalid(
            "no site to roll out to",
            [InputProblem("selector", r.site_name + ": " + r.reason) for r in plan.rejected[:20]]
            or [InputProblem("selector", "no site matches")],
        )
    chosen = sorted(plan.chosen, key=lambda c: (c.name, c.id))
    wave_count = (len(chosen) + batch_size - 1) // batch_size
    rollout = RolloutRow(
        tenant_id=ns_owner,
        name=name,
        nsd_info_id=nsd.id,
        state=RolloutState.RUNNING.value,
        batch_size=batch_size,
        max_failures=max_failures,
        total=len(chosen),
        waves=wave_count,
        rejected=[
            {"siteId": r.site_id, "siteName": r.site_name, "reason": r.reason}
            for r in plan.rejected[:MAX_REJECTIONS_KEPT]
        ],
    )
    session.add(rollout)
    session.flush()
    session.add_all(
        RolloutSiteRow(rollout_id=rollout.id, site_id=c.id, wave=i // batch_size)
        for i, c in enumerate(chosen)
    )
    session.flush()
    return view(session, rollout)


def get(session: Session, principal: Principal, rollout_id: str) -> Rollout:
    return view(session, _row(session, principal, rollout_id))


def _row(session: Session, principal: Principal, rollout_id: str) -> RolloutRow:
    return get_visible(session, RolloutRow, rollout_id, principal, what="rollout")


def list_all(session: Session, principal: Principal) -> list[Rollout]:
    query = select(RolloutRow).where(visible(principal, RolloutRow))
    rows = session.scalars(query.order_by(RolloutRow.created_at, RolloutRow.id)).all()
    return [view(session, row) for row in rows]


def counts(session: Session, rollout_id: str) -> dict[str, int]:
    """How many of the rollout's sites are PENDING, RUNNING, DONE, FAILED, SKIPPED."""
    rows = session.execute(
        select(RolloutSiteRow.state, func.count())
        .where(RolloutSiteRow.rollout_id == rollout_id)
        .group_by(RolloutSiteRow.state)
    )
    found = Counter({state: int(count) for state, count in rows})
    return {state: found.get(state, 0) for state in ("PENDING", "RUNNING", "DONE", "FAILED",
                                                     "SKIPPED")}  # fmt: skip


def failed_sites(session: Session, rollout_id: str, limit: int = 20) -> list[dict[str, Any]]:
    rows = session.execute(
        select(RolloutSiteRow.site_id, SiteRow.name, RolloutSiteRow.op_id)
        .join(SiteRow, SiteRow.id == RolloutSiteRow.site_id)
        .where(RolloutSiteRow.rollout_id == rollout_id, RolloutSiteRow.state == "FAILED")
        .limit(limit)
    )
    return [{"siteId": s, "siteName": n, "nsLcmOpOccId": o} for s, n, o in rows]


# The states each operator move on a rollout starts from: the one rule (the portals read it).
MOVABLE_FROM: dict[str, tuple[RolloutState, ...]] = {
    "pause": (RolloutState.RUNNING,),
    "resume": (RolloutState.PAUSED,),
    "abort": (RolloutState.RUNNING, RolloutState.PAUSED),
}


def pause(session: Session, principal: Principal, rollout_id: str) -> Rollout:
    """No new wave starts; the sites of the wave in progress finish."""
    rollout = _move(session, principal, rollout_id, MOVABLE_FROM["pause"], RolloutState.PAUSED,
                    reason="paused by the operator")  # fmt: skip
    return view(session, rollout)


def resume(session: Session, principal: Principal, rollout_id: str) -> Rollout:
    """Runs again, with a fresh failure budget of `max_failures`."""
    rollout = _move(session, principal, rollout_id, MOVABLE_FROM["resume"], RolloutState.RUNNING,
                    reason=None)  # fmt: skip
    _settle(session, rollout.id)  # sites whose operation was retried meanwhile
    rollout.failure_base = counts(session, rollout.id)["FAILED"]
    return view(session, rollout)


def abort(session: Session, principal: Principal, rollout_id: str) -> Rollout:
    """Stops for good: sites not started are SKIPPED (those in progress finish)."""
    rollout = _move(session, principal, rollout_id, MOVABLE_FROM["abort"], RolloutState.ABORTED,
                    reason="aborted by the operator")  # fmt: skip
    session.execute(
        update(RolloutSiteRow)
        .where(RolloutSiteRow.rollout_id == rollout.id, RolloutSiteRow.state == "PENDING")
        .values(state="SKIPPED")
    )
    return view(session, rollout)


def advance(session: Session, nsds: NsdModels, now: datetime | None = None) -> None:
    """One step of every RUNNING rollout (see the module's description)."""
    moment = now or utcnow()
    for rollout in session.scalars(
        select(RolloutRow).where(RolloutRow.state == RolloutState.RUNNING.value)
    ).all():
        _settle(session, rollout.id)
        tally = counts(session, rollout.id)
        if tally["FAILED"] - rollout.failure_base > rollout.max_failures:
            named = ", ".join(f["siteName"] for f in failed_sites(session, rollout.id, 5))
            more = ", ..." if tally["FAILED"] > 5 else ""
            failures = tally["FAILED"] - rollout.failure_base
            _enter(rollout, RolloutState.PAUSED, moment,
                   f"{failures} site(s) failed ({named}{more}); at most "
                   f"{rollout.max_failures} may fail before the rollout pauses")  # fmt: skip
            continue
        if tally["RUNNING"]:
            continue
        if not tally["PENDING"]:
            _enter(rollout, RolloutState.COMPLETED, moment, None)
            continue
        _start_wave(session, nsds, rollout, moment)


def _settle(session: Session, rollout_id: str) -> None:
    """Each RUNNING or FAILED site of the rollout takes the state of its operation: a failed
    operation the operator retried is RUNNING again, and DONE once it completes."""
    running = session.execute(
        select(RolloutSiteRow.site_id, RolloutSiteRow.state, NsLcmOpOccRow.state)
        .join(NsLcmOpOccRow, NsLcmOpOccRow.id == RolloutSiteRow.op_id)
        .where(
            RolloutSiteRow.rollout_id == rollout_id,
            RolloutSiteRow.state.in_(("RUNNING", "FAILED")),
        )
    ).all()
    by_state: dict[str, list[str]] = {}
    for site_id, now, op_state in running:
        state = SETTLED.get(op_state, "RUNNING")
        if state != now:
            by_state.setdefault(state, []).append(site_id)
    for state, sites in by_state.items():
        for start in range(0, len(sites), 500):
            session.execute(
                update(RolloutSiteRow)
                .where(
                    RolloutSiteRow.rollout_id == rollout_id,
                    RolloutSiteRow.site_id.in_(sites[start : start + 500]),
                )
                .values(state=state)
            )


def _start_wave(session: Session, nsds: NsdModels, rollout: RolloutRow, moment: datetime) -> None:
    wave = session.scalar(
        select(func.min(RolloutSiteRow.wave)).where(
            RolloutSiteRow.rollout_id == rollout.id, RolloutSiteRow.state == "PENDING"
        )
    )
    assert wave is not None
    members = session.scalars(
        select(RolloutSiteRow).where(
            RolloutSiteRow.rollout_id == rollout.id,
            RolloutSiteRow.wave == wave,
            RolloutSiteRow.state == "PENDING",
        )
    ).all()
    sites = session.scalars(
        select(SiteRow).where(SiteRow.id.in_([m.site_id for m in members]))
    ).all()
    nsd = session.get(CatalogItemRow, rollout.nsd_info_id)
    if nsd is None:
        raise NotFound(f"the rollout's NSD {rollout.nsd_info_id} is gone")
    try:  # its VNF packages may have been disabled since: the rollout waits for the operator
        software.resolve(session, nsds, nsd, nsds.load(nsd), rollout.tenant_id)
    except Invalid as refused:
        why = "; ".join(str(p) for p in refused.problems) or refused.detail
        _enter(rollout, RolloutState.PAUSED, moment, f"{refused.detail}: {why}"[:1000])
        return
    existing = waves.versions_on(session, nsds, nsd, rollout.tenant_id, [s.id for s in sites])
    running = {site: ns.id for site, ns in existing.items() if ns.nsd_info_id == nsd.id}
    older = [ns for site, ns in existing.items() if site not in running]
    started = waves.upgrade_each(session, nsds, nsd, older) if older else {}
    new_sites = [s for s in sites if s.id not in existing]
    started |= waves.instantiate_each(
        session, nsds, nsd, new_sites, name=rollout.name, tenant_id=rollout.tenant_id
    )
    for member in members:
        if member.site_id in running:  # already of this version: nothing to do
            member.ns_instance_id, member.state = running[member.site_id], "DONE"
        elif member.site_id in started:
            member.ns_instance_id, member.op_id = started[member.site_id]
            member.state = "RUNNING"
        else:  # the site was deleted since the rollout began, or its NS instance is busy
            member.state = "SKIPPED"
    rollout.wave = wave


def _move(
    session: Session,
    principal: Principal,
    rollout_id: str,
    allowed: tuple[RolloutState, ...],
    to: RolloutState,
    *,
    reason: str | None,
) -> RolloutRow:
    rollout = _row(session, principal, rollout_id)
    ensure_writable(principal, rollout, what="rollout")
    if rollout.state not in allowed:
        raise Conflict(
            f"rollout {rollout_id} is {rollout.state}; it can be {to.value.lower()} only when "
            + " or ".join(s.value for s in allowed)
        )
    _enter(rollout, to, utcnow(), reason)
    return rollout


def _enter(rollout: RolloutRow, state: RolloutState, moment: datetime, reason: str | None) -> None:
    rollout.state = state.value
    rollout.state_entered_at = moment
    rollout.reason = reason
