"""An auto-scaling rule's SCALE_NS (autoscale_step.py): the NS out onto the first of the rule's
`add_sites` it does not run on, or in off the site its aspect added last (orchestrator.scaling),
started as the API would with isAutomaticInvocation true; a refusal is a decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from edgewise.central.orchestrator import scaling
from edgewise.central.orchestrator.autoscale import Decision, Kind
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.services.access import Principal
from edgewise.central.services.errors import Conflict, Invalid
from edgewise.central.store.autoscale_tables import AutoScaleRuleRow
from edgewise.central.store.tables import NsInstanceRow
from edgewise.model import placement


def scale_ns(  # noqa: PLR0917 - the rule, its NS, what it decided, when, and as whom
    session: Session,
    nsds: NsdModels,
    rule: AutoScaleRuleRow,
    ns: NsInstanceRow,
    decision: Decision,
    moment: datetime,
    actor: Principal,
) -> tuple[Decision, str | None]:
    out = decision.steps > 0
    ask = None
    if out:
        free = [s for s in rule.add_sites or [] if s not in ns.site_ids]
        if not free:
            return Decision(Kind.REFUSED, 0, f"{decision.detail}, refused: the NS runs on "
                            "every site of the rule's addSites already"), None  # fmt: skip
        ask = placement.Request(slots=0, sites=(free[0],))
    params: dict[str, Any] = {
        "scaleType": "SCALE_NS",
        "scaleNsData": {"scaleNsByStepsData": {
            "scalingDirection": "SCALE_OUT" if out else "SCALE_IN",
            "aspectId": rule.aspect_id, "numberOfSteps": 1}},
        "isAutomaticInvocation": True,
    }  # fmt: skip
    change = scaling.ScaleChange({rule.aspect_id: decision.steps}, {}, ask,
                                 "the auto-scaling rule's addSites")  # fmt: skip
    try:
        op = scaling.scale(session, actor, nsds, ns.id, change=change, params=params)
    except Invalid as exc:
        why = "; ".join(f"{p.where}: {p.message}" for p in exc.problems) or exc.detail
        return Decision(Kind.REFUSED, 0, f"{decision.detail}, refused: {why}"), None
    except Conflict as exc:
        return Decision(Kind.REFUSED, 0, f"{decision.detail}, refused: {exc.detail}"), None
    rule.scaled_at = moment
    return decision, op.id
