"""Where an NS goes: the pure placement (model.placement) over the sites the caller sees, with
the VNF slots their desired state already uses and their presence (when last heard of)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from types import MappingProxyType

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator.instances import get_row
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.services.access import Principal, visible
from edgewise.central.services.errors import InputProblem, Invalid
from edgewise.central.store.tables import (
    DesiredStateRow,
    NsInstanceRow,
    SiteRow,
    SiteStatusRow,
    aware_or_none,
    last_contact,
    utcnow,
)
from edgewise.model import placement
from edgewise.model.sites import Presence, SiteKind
from edgewise.tosca import Nsd


def plan_placement(
    session: Session, principal: Principal, nsds: NsdModels, ns_id: str, ask: placement.Request
) -> placement.Placement:
    """Where the NS would go and why every other site would not (a dry run: nothing changes)."""
    row = get_row(session, principal, ns_id)
    return plan(session, principal, row, nsds.of_instance(session, row), ask)


def plan(
    session: Session,
    principal: Principal,
    ns: NsInstanceRow,
    nsd: Nsd,
    ask: placement.Request,
    *,
    slots: int | None = None,
) -> placement.Placement:
    """`slots`: the VNFs the NS runs on a site (default: the NSD's; an NS whose chain an
    update changed runs another count)."""
    request = replace(
        ask,
        slots=slots or max(1, len(nsd.vnf_profiles)),
        tenant_id=ns.tenant_id,
        one_tenant=ns.tenant_id is None,
    )
    named = ask.sites if ask.explicit else None
    return placement.place(request, candidates(session, principal, ns.id, named))


def place(
    session: Session,
    principal: Principal,
    ns: NsInstanceRow,
    nsd: Nsd,
    ask: placement.Request,
    *,
    where: str | None = None,
    field: str | None = None,
    slots: int | None = None,
) -> list[SiteRow]:
    """The sites chosen for the NS; Invalid naming, under `where` (or exactly `field`), why
    it cannot be placed. `slots`: the VNFs it runs on a site, when not the NSD's count."""
    if not ask.explicit and ask == placement.Request(slots=ask.slots):
        raise Invalid(
            "no placement given",
            [
                InputProblem(
                    "additionalParamsForNs",
                    "name the sites (sites: [ids or names]) or give criteria (placement: {...})",
                )
            ],
        )
    slots = slots or max(1, len(nsd.vnf_profiles))
    chosen_plan = plan(session, principal, ns, nsd, ask, slots=slots)
    refusal = chosen_plan.refusal(replace(ask, slots=slots, one_tenant=ns.tenant_id is None))
    if refusal:
        at = field or (where or "additionalParamsForNs") + (
            ".sites" if ask.explicit else ".placement"
        )
        raise Invalid("the NS cannot be placed", [InputProblem(at, line) for line in refusal])
    chosen = [c.id for c in chosen_plan.chosen]
    rows = {r.id: r for r in session.scalars(select(SiteRow).where(SiteRow.id.in_(chosen)))}
    return [rows[site_id] for site_id in chosen]


def candidates(
    session: Session,
    principal: Principal,
    ns_id: str | Collection[str],
    named: Sequence[str] | None = None,
) -> list[placement.Candidate]:
    """Every site the caller sees (only those `named`, by id or name, when given), with the
    VNF slots its desired state already uses (the services of `ns_id`, one NS instance or
    several, do not count: they are what is being placed)."""
    own = {ns_id} if isinstance(ns_id, str) else set(ns_id)
    query = (
        select(SiteRow, DesiredStateRow.document, SiteStatusRow.last_seen_at)
        .outerjoin(DesiredStateRow, DesiredStateRow.site_id == SiteRow.id)
        .outerjoin(SiteStatusRow, SiteStatusRow.site_id == SiteRow.id)
    )
    now = utcnow()
    if named is not None:
        query = query.where(or_(SiteRow.id.in_(named), SiteRow.name.in_(named)))
    found = []
    for site, document, last_seen in session.execute(query.where(visible(principal, SiteRow))):
        services = (document or {}).get("services", [])
        used = sum(  # an elastic VNF takes a slot per instance (scaling_vnf)
            int(v.get("instances", 1))
            for s in services
            if s.get("id") not in own
            for v in s.get("vnfs", [])
        )
        found.append(
            placement.Candidate(
                site.id,
                site.name,
                site.tenant_id,
                SiteKind(site.kind),
                MappingProxyType(dict(site.labels)),
                site.compute_nodes * site.slots_per_node,
                used,
                Presence.of(aware_or_none(site.enrolled_at), aware_or_none(last_seen), now),
                last_contact(site.enrolled_at, last_seen),
            )
        )
    return found
