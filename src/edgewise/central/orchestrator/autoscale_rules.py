"""Auto-scaling rules of an NS instance (docs/elastic-vnfs.md): added, read, listed and removed
by the native API (api/autoscale.py), each checked against the NS's VNFs and their VNFDs'
scaling aspects; the tracker's step (autoscale_step.py) judges them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator.autoscale import RATE_METRICS
from edgewise.central.orchestrator.instances import get_row
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.placing import candidates
from edgewise.central.orchestrator.vnf_aspects import vnf_aspect
from edgewise.central.services.access import Principal, ensure_writable, get_visible
from edgewise.central.services.errors import Conflict, InputProblem, Unprocessable
from edgewise.central.store.autoscale_tables import AutoScaleRuleRow
from edgewise.central.store.tables import NsInstanceRow, aware, aware_or_none
from edgewise.tosca import Nsd

MAX_RULES: Final = 16  # per NS instance
MAX_COOLDOWN_S: Final = 86_400
ORIGIN_API: Final = "api"  # an operator's, through the API
ORIGIN_DESCRIPTOR: Final = "descriptor"  # seeded at instantiation (autoscale_seed.py)
SCALE_VNF: Final = "SCALE_VNF"
SCALE_NS: Final = "SCALE_NS"


@dataclass(frozen=True)
class RuleSpec:
    """What an operator asks for; `max_level` None: the aspect's max_scale_level."""

    vnf: str
    aspect_id: str
    metric: str
    scale_out_above: float
    scale_in_below: float
    cooldown_s: int
    min_level: int
    max_level: int | None
    scale_type: str = "SCALE_VNF"  # or SCALE_NS: the NS by an NSD aspect (sites)
    add_sites: tuple[str, ...] = ()  # SCALE_NS: the sites a scale-out may add, in order


@dataclass(frozen=True)
class AutoScaleRule:
    id: str
    ns_instance_id: str
    vnf: str
    aspect_id: str
    metric: str
    scale_out_above: float
    scale_in_below: float
    cooldown_s: int
    min_level: int
    max_level: int
    created_at: datetime
    scaled_at: datetime | None
    last_decision: dict[str, Any] | None
    origin: str = ORIGIN_API
    scale_type: str = "SCALE_VNF"
    add_sites: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: AutoScaleRuleRow) -> AutoScaleRule:
        return cls(row.id, row.ns_instance_id, row.vnf, row.aspect_id, row.metric,
                   row.scale_out_above, row.scale_in_below, row.cooldown_s, row.min_level,
                   row.max_level, aware(row.created_at), aware_or_none(row.scaled_at),
                   row.last_decision, row.origin, row.scale_type,
                   tuple(row.add_sites or ()))  # fmt: skip


def add(
    session: Session,
    principal: Principal,
    nsds: NsdModels,
    ns_id: str,
    spec: RuleSpec,
    *,
    origin: str = ORIGIN_API,
) -> AutoScaleRule:
    """A rule for a VNF of the NS; Unprocessable naming each field that cannot be."""
    ns = get_row(session, principal, ns_id)
    ensure_writable(principal, ns, what="NS instance")
    count = session.scalar(select(func.count()).select_from(AutoScaleRuleRow)
                           .where(AutoScaleRuleRow.ns_instance_id == ns.id))  # fmt: skip
    if (count or 0) >= MAX_RULES:
        raise Conflict(f"NS instance {ns.id} has {MAX_RULES} auto-scaling rules, the most it "
                       "may have; remove one first")  # fmt: skip
    problems: list[InputProblem] = []
    if spec.metric not in RATE_METRICS:
        known = ", ".join(RATE_METRICS)
        problems.append(InputProblem("metric", f"{spec.metric!r}: one of {known} (its rate "
                                     "per second)"))  # fmt: skip
    if not spec.scale_in_below < spec.scale_out_above:
        problems.append(InputProblem("scaleInBelow", f"{spec.scale_in_below:g} must be under "
                                     f"scaleOutAbove ({spec.scale_out_above:g}): the band "
                                     "between them is the hysteresis"))  # fmt: skip
    nsd = nsds.of_instance(session, ns)
    top, sites = _target(session, principal, nsds, ns, nsd, spec, problems)
    max_level = spec.max_level if spec.max_level is not None else top
    if top is not None and max_level is not None and not spec.min_level < max_level <= top:
        problems.append(InputProblem("maxLevel", f"{max_level}: from minLevel + 1 "
                                     f"({spec.min_level + 1}) to the aspect's max_scale_level "
                                     f"({top})"))  # fmt: skip
    if problems or max_level is None:
        raise Unprocessable("the auto-scaling rule cannot be made", problems)
    if origin == ORIGIN_API and spec.scale_type == SCALE_VNF:  # supersedes the descriptor's
        session.execute(delete(AutoScaleRuleRow).where(
            AutoScaleRuleRow.ns_instance_id == ns.id, AutoScaleRuleRow.vnf == spec.vnf,
            AutoScaleRuleRow.aspect_id == spec.aspect_id,
            AutoScaleRuleRow.origin == ORIGIN_DESCRIPTOR))  # fmt: skip
    row = AutoScaleRuleRow(
        tenant_id=ns.tenant_id, ns_instance_id=ns.id, vnf=spec.vnf, aspect_id=spec.aspect_id,
        metric=spec.metric, scale_out_above=spec.scale_out_above,
        scale_in_below=spec.scale_in_below, cooldown_s=spec.cooldown_s,
        min_level=spec.min_level, max_level=max_level, origin=origin,
        scale_type=spec.scale_type, add_sites=list(sites) if sites else None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return AutoScaleRule.of(row)


def _target(  # noqa: PLR0917 - the rule's NS, its NSD, what is asked, the problems found
    session: Session,
    principal: Principal,
    nsds: NsdModels,
    ns: NsInstanceRow,
    nsd: Nsd,
    spec: RuleSpec,
    problems: list[InputProblem],
) -> tuple[int | None, tuple[str, ...]]:
    """The top level of the rule's aspect (the VNFD's for SCALE_VNF, the NSD's for SCALE_NS)
    and, for SCALE_NS, the ids of the sites a scale-out may add; problems appended."""
    profile = next((p for p in nsd.vnf_profiles if p.node == spec.vnf), None)
    if profile is None:
        names = ", ".join(sorted(p.node for p in nsd.vnf_profiles))
        problems.append(InputProblem("vnf", f"{spec.vnf!r}: the NS's VNFs are {names}"))
    if spec.scale_type == SCALE_NS:
        return _ns_aspect_top(nsd, spec, problems), _sites(session, principal, ns, spec, problems)
    if spec.add_sites:
        problems.append(InputProblem("addSites", "only for scaleType SCALE_NS (a SCALE_VNF "
                                     "rule scales the VNF where the NS runs)"))  # fmt: skip
    if profile is None:
        return None, ()
    aspect, why = vnf_aspect(session, nsds, profile.vnfd_id, profile.flavour_id,
                             ns.tenant_id, spec.aspect_id)  # fmt: skip
    if aspect is None:
        problems.append(InputProblem("aspectId" if why.startswith("aspect") else "vnf", why))
        return None, ()
    return aspect.max_scale_level, ()


def _ns_aspect_top(nsd: Nsd, spec: RuleSpec, problems: list[InputProblem]) -> int | None:
    aspect = next((a for a in nsd.scaling_aspects if a.aspect_id == spec.aspect_id), None)
    if aspect is None:
        known = ", ".join(a.aspect_id for a in nsd.scaling_aspects) or "none"
        problems.append(InputProblem("aspectId", f"{spec.aspect_id!r}: the NSD's scaling "
                                     f"aspects are {known}"))  # fmt: skip
        return None
    return aspect.max_scale_level


def _sites(
    session: Session,
    principal: Principal,
    ns: NsInstanceRow,
    spec: RuleSpec,
    problems: list[InputProblem],
) -> tuple[str, ...]:
    """The ids of the sites (named by id or name, seen by the caller) a scale-out may add."""
    if not spec.add_sites:
        problems.append(InputProblem("addSites", "a SCALE_NS rule names the sites (ids or "
                                     "names) a scale-out may add, in order"))  # fmt: skip
        return ()
    seen = candidates(session, principal, ns.id, named=list(spec.add_sites))
    ids: list[str] = []
    for index, asked in enumerate(spec.add_sites):
        found = next((c.id for c in seen if asked in (c.id, c.name)), None)
        if found is None:
            problems.append(InputProblem(f"addSites[{index}]", f"{asked!r}: no such site"))
        elif found not in ids:
            ids.append(found)
    return tuple(ids)


def list_rules(session: Session, principal: Principal, ns_id: str) -> list[AutoScaleRule]:
    ns = get_row(session, principal, ns_id)
    query = select(AutoScaleRuleRow).where(AutoScaleRuleRow.ns_instance_id == ns.id)
    return [AutoScaleRule.of(r) for r in session.scalars(query.order_by(AutoScaleRuleRow.id))]


def read(session: Session, principal: Principal, rule_id: str) -> AutoScaleRule:
    return AutoScaleRule.of(_row(session, principal, rule_id))


def remove(session: Session, principal: Principal, rule_id: str) -> None:
    row = _row(session, principal, rule_id)
    ensure_writable(principal, row, what="auto-scaling rule")
    session.delete(row)


def _row(session: Session, principal: Principal, rule_id: str) -> AutoScaleRuleRow:
    return get_visible(session, AutoScaleRuleRow, rule_id, principal, what="auto-scaling rule")
