"""The tracker's auto-scaling step (`workers.tracker_steps`): each pass judges the rules not
judged for `EVERY` on counters newer than those they last saw — the rate is taken between the
two readings — and starts SCALE_VNF through the orchestrator's entry the API uses, with
isAutomaticInvocation true, when a rule decides to (orchestrator.autoscale). Bounded per pass
(`BATCH`), the telemetry of the whole batch read in a few queries; only a rule out of its band
reads its VNF's level and the NS's operations. Rows another replica holds are skipped."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import autoscale, documents, scaling, scaling_vnf, vnf_aspects
from edgewise.central.orchestrator.autoscale import Decision, Kind
from edgewise.central.orchestrator.autoscale_ns import scale_ns
from edgewise.central.orchestrator.autoscale_rules import SCALE_NS
from edgewise.central.orchestrator.instances import unfinished
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.states import NsState
from edgewise.central.services import pm_objects
from edgewise.central.services.access import Principal, Role
from edgewise.central.services.errors import Conflict, Invalid
from edgewise.central.services.pm_metrics import NS, values
from edgewise.central.store.autoscale_tables import AutoScaleRuleRow
from edgewise.central.store.tables import NsInstanceRow, aware, aware_or_none, utcnow

log = logging.getLogger(__name__)
BATCH: Final = 500
EVERY: Final = timedelta(seconds=1)  # at most this often per rule
ACTOR: Final = "edgewise-autoscale"  # who an automatic operation is started as


def advance(session: Session, nsds: NsdModels, now: datetime | None = None) -> int:
    """Judges the due rules; returns how many scalings this pass started."""
    moment = now or utcnow()
    rules = list(session.scalars(
        select(AutoScaleRuleRow)
        .where(AutoScaleRuleRow.evaluated_at <= moment - EVERY)
        .order_by(AutoScaleRuleRow.evaluated_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ))  # fmt: skip
    if not rules:
        return 0
    ns_ids = [rule.ns_instance_id for rule in rules]
    seen = pm_objects.telemetry(session, ns_ids, [])
    instances = pm_objects.ns_rows(session, ns_ids)
    started = 0
    for rule in rules:
        rule.evaluated_at = moment
        metric = f"{rule.metric}.{rule.vnf}"
        found, at = values(seen, NS, rule.ns_instance_id, [metric])
        value, last = found.get(metric), aware_or_none(rule.counter_at)
        if value is None or at is None:
            if rule.counter is None and rule.last_decision is None:
                _record(rule, moment, Decision(Kind.NO_COUNTERS, 0, f"no site reported "
                                               f"{metric} yet"), None, None)  # fmt: skip
            continue
        if last is not None and at <= last:
            continue  # nothing new to judge
        per_second = autoscale.rate(rule.counter, last, value, aware(at))
        rule.counter, rule.counter_at = value, at
        if per_second is None:
            why = f"{metric} read at {value:g}: the rate is taken from the next reading"
            _record(rule, moment, Decision(Kind.BASELINE, 0, why), None, None)
            continue
        ns = instances.get(rule.ns_instance_id)
        decision, level = _judge(session, nsds, rule, ns, per_second, moment)
        op_id = None
        if decision.steps and ns is not None:
            decision, op_id = _scale(session, nsds, rule, ns, decision, moment)
            started += op_id is not None
        _record(rule, moment, decision, per_second, level, op_id)
    return started


def _judge(  # noqa: PLR0917 - the rule, its NS, the rate and the moment
    session: Session,
    nsds: NsdModels,
    rule: AutoScaleRuleRow,
    ns: NsInstanceRow | None,
    per_second: float,
    moment: datetime,
) -> tuple[Decision, int | None]:
    band = band_of(rule)
    inside = autoscale.within(band, per_second)
    if inside is not None:
        return inside, None
    if ns is None or ns.state != NsState.INSTANTIATED:
        state = ns.state if ns is not None else "gone"
        return Decision(Kind.HELD_NOT_RUNNING, 0, f"the NS instance is {state}"), None
    level, why = level_of(session, nsds, rule, ns)
    if level is None:
        return Decision(Kind.REFUSED, 0, why), None
    busy = unfinished(session, ns.id)
    cooling = autoscale.cooling(aware_or_none(rule.scaled_at), moment, rule.cooldown_s)
    decision = autoscale.decide(band, per_second, level, cooling_s=cooling,
                                busy=busy.id if busy is not None else None)  # fmt: skip
    return decision, level


def band_of(rule: AutoScaleRuleRow) -> autoscale.Band:
    return autoscale.Band(rule.scale_out_above, rule.scale_in_below, rule.cooldown_s,
                          rule.min_level, rule.max_level)  # fmt: skip


def level_of(
    session: Session, nsds: NsdModels, rule: AutoScaleRuleRow, ns: NsInstanceRow
) -> tuple[int | None, str]:
    """The level of the rule's aspect its VNF runs at (from the sites' documents), or why
    it cannot be told."""
    nsd = nsds.of_instance(session, ns)
    if rule.scale_type == SCALE_NS:
        levels = scaling.scale_levels(ns, nsd)
        if rule.aspect_id not in levels:
            return None, f"aspect {rule.aspect_id!r} is not of the NS's descriptor any more"
        return len(levels[rule.aspect_id]), ""
    profile = next((p for p in nsd.vnf_profiles if p.node == rule.vnf), None)
    if profile is None:
        return None, f"VNF {rule.vnf!r} is not of the NS's descriptor any more"
    aspect, why = vnf_aspects.vnf_aspect(session, nsds, profile.vnfd_id, profile.flavour_id,
                                          ns.tenant_id, rule.aspect_id)  # fmt: skip
    if aspect is None:
        return None, why
    try:
        running = documents.running_entries(session, ns.id, ns.site_ids)
    except Conflict as exc:
        return None, exc.detail
    template = next(iter(running.values()))
    count = next((int(v.get("instances", 1)) for v in template.get("vnfs", [])
                  if v.get("name") == rule.vnf), None)  # fmt: skip
    level = aspect.level_of(count) if count is not None else None
    if level is None:
        return None, f"VNF {rule.vnf!r} runs {count} instances, at no level of {rule.aspect_id!r}"
    return level, ""


def _scale(  # noqa: PLR0917 - the rule, its NS, what it decided and when
    session: Session,
    nsds: NsdModels,
    rule: AutoScaleRuleRow,
    ns: NsInstanceRow,
    decision: Decision,
    moment: datetime,
) -> tuple[Decision, str | None]:
    """Starts the decided SCALE_VNF (or SCALE_NS) as the API would, automatic; a refusal is a
    decision."""
    kind = "SCALE_OUT" if decision.steps > 0 else "SCALE_IN"
    role = Role.ADMIN if ns.tenant_id is None else Role.TENANT
    actor = Principal(ACTOR, "auto-scaling", role, ns.tenant_id)
    if rule.scale_type == SCALE_NS:
        return scale_ns(session, nsds, rule, ns, decision, moment, actor)
    params: dict[str, Any] = {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [{"vnfInstanceId": rule.vnf, "scaleVnfType": kind, "scaleByStepData": {
            "aspectId": rule.aspect_id, "numberOfSteps": abs(decision.steps)}}],
        "isAutomaticInvocation": True,
    }  # fmt: skip
    step = scaling_vnf.VnfScaleStep(rule.vnf, rule.aspect_id, decision.steps, "scaleVnfData[0]")
    try:
        op = scaling_vnf.scale_vnfs(session, actor, nsds, ns.id, steps=[step], params=params)
    except Invalid as exc:
        why = "; ".join(f"{p.where}: {p.message}" for p in exc.problems) or exc.detail
        return Decision(Kind.REFUSED, 0, f"{decision.detail}, refused: {why}"), None
    except Conflict as exc:
        return Decision(Kind.REFUSED, 0, f"{decision.detail}, refused: {exc.detail}"), None
    rule.scaled_at = moment
    return decision, op.id


def _record(  # noqa: PLR0917 - what a judgement found, each a field of the decision
    rule: AutoScaleRuleRow,
    moment: datetime,
    decision: Decision,
    per_second: float | None,
    level: int | None,
    op_id: str | None = None,
) -> None:
    """The rule's last decision (its API view shows it); logged when it scales or changes."""
    before = (rule.last_decision or {}).get("decision")
    if decision.steps or before != decision.kind.value:
        log.info("auto-scaling rule %s of NS %s, VNF %s: %s (%s)", rule.id, rule.ns_instance_id,
                 rule.vnf, decision.kind.value, decision.detail)  # fmt: skip
    rule.last_decision = {
        "at": aware(moment).isoformat().replace("+00:00", "Z"),
        "decision": decision.kind.value,
        "detail": decision.detail,
        "ratePerSecond": per_second,
        "level": level,
        "nsLcmOpOccId": op_id,
    }
