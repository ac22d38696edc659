"""Auto-scaling rules a VNFD declares (`edgewise.policies.AutoScale`, tosca/vnfautoscale.py),
made rules of the NS instance when it is instantiated (orchestrator.lifecycle), marked as the
descriptor's; an operator may remove them like their own (docs/elastic-vnfs.md).
autoscale_rules is used by module: it reaches lifecycle, which calls this, through scaling_vnf."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import autoscale_rules
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.software import package_of
from edgewise.central.services.access import Principal
from edgewise.central.services.errors import Conflict, InputProblem, Unprocessable
from edgewise.central.store.autoscale_tables import AutoScaleRuleRow
from edgewise.central.store.tables import NsInstanceRow
from edgewise.tosca import Nsd
from edgewise.tosca.model import AutoScalePolicy

WHERE = "nsdId"


def seed(
    session: Session, principal: Principal, nsds: NsdModels, ns: NsInstanceRow, nsd: Nsd
) -> list[autoscale_rules.AutoScaleRule]:
    """The NS's descriptor rules anew (those of an earlier instantiation go): one per AutoScale
    policy of each VNF's VNFD flavour, but for a VNF and aspect an operator's rule scales.
    Unprocessable naming `nsdId` and the policy when the NS cannot have one (an aspect Edgewise
    cannot scale by, too many rules...)."""
    mine = AutoScaleRuleRow.ns_instance_id == ns.id
    session.execute(
        delete(AutoScaleRuleRow).where(
            mine, AutoScaleRuleRow.origin == autoscale_rules.ORIGIN_DESCRIPTOR
        )
    )
    pairs = select(AutoScaleRuleRow.vnf, AutoScaleRuleRow.aspect_id).where(mine)
    operators = {(vnf, aspect) for vnf, aspect in session.execute(pairs)}
    made: list[autoscale_rules.AutoScaleRule] = []
    for profile in nsd.vnf_profiles:
        for policy in _policies(session, nsds, profile.vnfd_id, profile.flavour_id, ns.tenant_id):
            if (profile.node, policy.aspect_id) in operators:
                continue  # an operator's rule for that aspect supersedes the descriptor's
            try:
                spec, origin = _spec(profile.node, policy), autoscale_rules.ORIGIN_DESCRIPTOR
                made.append(
                    autoscale_rules.add(session, principal, nsds, ns.id, spec, origin=origin)
                )
            except (Unprocessable, Conflict) as exc:
                problems = exc.problems if isinstance(exc, Unprocessable) else ()
                why = "; ".join(f"{p.where}: {p.message}" for p in problems) or str(exc)
                raise Unprocessable("the NS cannot have its VNFDs' auto-scaling", [
                    InputProblem(WHERE, f"VNF {profile.node}: AutoScale policy {policy.name!r} "
                                 f"of VNFD {profile.vnfd_id!r}: {why}")]) from exc  # fmt: skip
    return made


def _policies(
    session: Session, nsds: NsdModels, vnfd_id: str, flavour_id: str, tenant_id: str | None
) -> tuple[AutoScalePolicy, ...]:
    package, _ = package_of(session, vnfd_id, tenant_id, enabled=False)
    if package is None:
        return ()
    vnfd = nsds.vnfd(package)
    flavour = next((f for f in vnfd.flavours if f.flavour_id == flavour_id), None)
    flavour = flavour or (vnfd.flavours[0] if vnfd.flavours else None)
    return flavour.autoscale if flavour is not None else ()


def _spec(vnf: str, policy: AutoScalePolicy) -> autoscale_rules.RuleSpec:
    return autoscale_rules.RuleSpec(vnf, policy.aspect_id, policy.metric, policy.scale_out_above,
                    policy.scale_in_below, policy.cooldown_s, policy.min_level,
                    policy.max_level)  # fmt: skip
