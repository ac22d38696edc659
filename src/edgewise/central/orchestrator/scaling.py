"""NS scaling (SOL005 SCALE_NS) by sites: an Edgewise site runs one instance of each VNF of an
NS, so a step of an NS scaling aspect out runs the whole chain on one more site (chosen by the
placement given, or the one the NS was instantiated with), and a step in takes it off the site
that aspect added last. The aspect's level is the count of sites it added."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import documents
from edgewise.central.orchestrator.lifecycle import for_operation
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.occurrences import start
from edgewise.central.orchestrator.placing import place
from edgewise.central.orchestrator.states import DEFAULT_TIMEOUT, NsState, OpState, OpType
from edgewise.central.orchestrator.views import LcmOperation
from edgewise.central.services.access import Principal
from edgewise.central.services.errors import InputProblem, Invalid
from edgewise.central.store.tables import NsInstanceRow, NsLcmOpOccRow
from edgewise.model import placement
from edgewise.tosca import Nsd


@dataclass(frozen=True)
class ScaleChange:
    """A SCALE_NS request: the level each named NS scaling aspect goes to (by steps, resolved
    against the current levels, or absolute), and where new sites may come from."""

    steps: dict[str, int]  # aspect -> signed steps (out > 0, in < 0); or
    levels: dict[str, int]  # aspect -> absolute level
    placement: placement.Request | None = None
    placement_from: str = "scaleNsData.additionalParamsForNs"  # where the placement was given


def scale(
    session: Session,
    principal: Principal,
    nsds: NsdModels,
    ns_id: str,
    *,
    change: ScaleChange,
    params: dict[str, Any],
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> LcmOperation:
    """Scales the NS out to more sites or in off some (see the module's description)."""
    row = for_operation(session, principal, ns_id, NsState.INSTANTIATED, "scale")
    nsd = nsds.of_instance(session, row)
    plan, added, removed = _scale_plan(row, nsd, change)
    entries: dict[str, dict[str, Any] | None] = dict.fromkeys(removed)
    if added:
        ask = change.placement
        if ask is None:
            raise Invalid(
                "the NS cannot be scaled out",
                [InputProblem("scaleNsData.additionalParamsForNs", "no placement: name the sites "
                              "to add (sites) or give criteria (placement); the NS was not "
                              "instantiated with criteria to reuse")],
            )  # fmt: skip
        count = None if ask.explicit else added
        ask = replace(ask, count=count, exclude=frozenset(row.site_ids))
        if ask.explicit and len(ask.sites) != added:
            raise Invalid(
                "the NS cannot be scaled out",
                [InputProblem("scaleNsData.additionalParamsForNs.sites",
                              f"names {len(ask.sites)} sites; the scaling adds {added}")],
            )  # fmt: skip
        template = next(iter(documents.running_entries(session, row.id, row.site_ids).values()))
        new_sites = place(session, principal, row, nsd, ask, where=change.placement_from,
                          slots=len(template.get("vnfs", [])))  # fmt: skip
        for site in new_sites:
            entries[site.id] = template | {"tenant": site.tenant_id}
        growing = iter(site.id for site in new_sites)
        plan = {a: [s or next(growing) for s in sites] for a, sites in plan.items()}
    targets, previous = documents.rewrite(session, row.id, entries)
    op = start(session, row, OpType.SCALE, params=params, targets=targets, previous=previous,
               timeout=timeout)  # fmt: skip
    op.outcome = {"scaleStatus": plan}
    session.flush()
    return LcmOperation.of(op)


def instantiation_params(session: Session, ns_id: str) -> dict[str, Any]:
    """The request of the NS instance's last completed INSTANTIATE (its placement is what a
    scale-out reuses when it gives none)."""
    op = session.scalars(
        select(NsLcmOpOccRow)
        .where(
            NsLcmOpOccRow.ns_instance_id == ns_id,
            NsLcmOpOccRow.operation == OpType.INSTANTIATE.value,
            NsLcmOpOccRow.state == OpState.COMPLETED.value,
        )
        .order_by(NsLcmOpOccRow.start_time.desc())
    ).first()
    return dict(op.operation_params) if op is not None else {}


def _scale_plan(
    ns: NsInstanceRow, nsd: Nsd, change: ScaleChange
) -> tuple[dict[str, list[str]], int, list[str]]:
    """The aspects' site lists after the scaling ("" for a site still to place), how many
    sites it adds, and the sites it takes the NS off; Invalid naming each impossible aspect."""
    aspects = {a.aspect_id: a for a in nsd.scaling_aspects}
    where = "scaleNsData.scaleNsByStepsData" if change.steps else "scaleNsData.scaleNsToLevelData"
    if not aspects:
        raise Invalid(
            "the NS cannot be scaled",
            [InputProblem(where, f"NSD {nsd.descriptor_id} declares no NS scaling aspect")],
        )
    status = scale_levels(ns, nsd)
    wanted = {a: len(status[a]) + n for a, n in change.steps.items() if a in aspects}
    wanted |= {a: level for a, level in change.levels.items() if a in aspects}
    problems = [
        InputProblem(f"{where}.aspectId", f"{a!r}: the NSD's aspects are " + ", ".join(aspects))
        for a in [*change.steps, *change.levels]
        if a not in aspects
    ]
    for aspect_id, level in wanted.items():
        top = aspects[aspect_id].max_scale_level
        if not 0 <= level <= top:
            problems.append(InputProblem(
                where, f"aspect {aspect_id!r} would go to level {level}, outside 0..{top} "
                f"(it is at {len(status[aspect_id])})"))  # fmt: skip
    if not problems and all(len(status[a]) == level for a, level in wanted.items()):
        problems.append(InputProblem(where, "nothing to scale: every aspect is at that level"))
    if problems:
        raise Invalid("the NS cannot be scaled", problems)
    plan: dict[str, list[str]] = {}
    added, removed = 0, []
    for aspect_id, sites in status.items():
        level = wanted.get(aspect_id, len(sites))
        plan[aspect_id] = [*sites[:level], *[""] * (level - len(sites))]
        added += max(0, level - len(sites))
        removed.extend(sites[level:])
    return plan, added, removed


def scale_levels(ns: NsInstanceRow, nsd: Nsd) -> dict[str, list[str]]:
    """Each NS scaling aspect of the NSD with the sites its steps added that the NS still
    runs on (its level is their count)."""
    running = set(ns.site_ids)
    status = ns.scale_status or {}
    return {
        a.aspect_id: [s for s in status.get(a.aspect_id, []) if s in running]
        for a in nsd.scaling_aspects
    }
