"""VNF scaling (SOL005 SCALE_VNF) at the sites: a step of a VNFD scaling aspect out runs one more
instance of the VNF (or what the aspect's delta says) beside the others at each site of the NS,
a step in drains and removes one (docs/elastic-vnfs.md). The instance count is the VNFD's:
initial delta + the deltas of the steps up to the aspect's level, bounded by max_scale_level;
the level is read back from the count in the sites' documents (the documents are the truth).
Written as a new revision of each site's document, an operation occurrence like any other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from edgewise.central.orchestrator import documents
from edgewise.central.orchestrator.lifecycle import for_operation
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.occurrences import start
from edgewise.central.orchestrator.placing import candidates
from edgewise.central.orchestrator.states import DEFAULT_TIMEOUT, NsState, OpType
from edgewise.central.orchestrator.views import LcmOperation
from edgewise.central.orchestrator.vnf_aspects import vnf_aspect
from edgewise.central.services.access import Principal
from edgewise.central.services.errors import InputProblem, Unprocessable
from edgewise.model.desired import MAX_INSTANCES, DesiredState, DocumentError
from edgewise.tosca import Nsd


@dataclass(frozen=True)
class VnfScaleStep:
    """One entry of scaleVnfData: the VNF (its name in the NS, vnfInstance[].id), the aspect
    and the signed steps (SCALE_OUT > 0, SCALE_IN < 0); `where` is the request field."""

    vnf: str
    aspect_id: str
    steps: int
    where: str


def scale_vnfs(
    session: Session,
    principal: Principal,
    nsds: NsdModels,
    ns_id: str,
    *,
    steps: Sequence[VnfScaleStep],
    params: dict[str, Any],
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> LcmOperation:
    """Scales VNFs of the NS out or in at every site it runs on (see the module's description);
    Unprocessable naming the field of every step that cannot be made."""
    row = for_operation(session, principal, ns_id, NsState.INSTANTIATED, "scale")
    nsd = nsds.of_instance(session, row)
    running = documents.running_entries(session, row.id, row.site_ids)
    template = next(iter(running.values()))
    counts = {str(v["name"]): int(v.get("instances", 1)) for v in template.get("vnfs", [])}
    wanted = dict(counts)
    problems: list[InputProblem] = []
    for step in steps:
        count = _count_after(session, nsds, nsd, row.tenant_id, step, wanted, problems)
        if count is not None:
            wanted[step.vnf] = count
    if not problems and wanted == counts:
        problems.append(InputProblem("scaleVnfData", "nothing to scale: every VNF would run "
                                     "the instances it runs now"))  # fmt: skip
    if not problems:
        problems = _contract_problems(template, wanted, steps)
    if not problems:
        needed = sum(wanted.values())
        problems = [
            InputProblem("scaleVnfData", f"site {c.name}: {c.free} of {c.slots} VNF slots free; "
                         f"the scaled NS needs {needed} (a slot per instance)")
            for c in candidates(session, principal, row.id, row.site_ids)
            if c.free < needed
        ]  # fmt: skip
    if problems:
        raise Unprocessable("the VNFs cannot be scaled", problems)
    entries: dict[str, dict[str, Any] | None] = {
        site: found | {"vnfs": [_counted(v, wanted[v["name"]]) for v in found.get("vnfs", [])]}
        for site, found in running.items()
    }
    targets, previous = documents.rewrite(session, row.id, entries)
    op = start(session, row, OpType.SCALE, params=params, targets=targets, previous=previous,
               timeout=timeout)  # fmt: skip
    session.flush()
    return LcmOperation.of(op)


def _count_after(  # noqa: PLR0917 - the NS, the tenant, the step and what is known so far
    session: Session,
    nsds: NsdModels,
    nsd: Nsd,
    tenant_id: str | None,
    step: VnfScaleStep,
    counts: dict[str, int],
    problems: list[InputProblem],
) -> int | None:
    """The VNF's instance count after `step`, or None with the problem added."""
    at_vnf, at_aspect = f"{step.where}.vnfInstanceId", f"{step.where}.scaleByStepData.aspectId"
    profile = next((p for p in nsd.vnf_profiles if p.node == step.vnf), None)
    if profile is None or step.vnf not in counts:
        problems.append(InputProblem(at_vnf, f"{step.vnf!r}: the NS's VNFs are "
                                     + ", ".join(sorted(counts))))  # fmt: skip
        return None
    aspect, why = vnf_aspect(session, nsds, profile.vnfd_id, profile.flavour_id, tenant_id,
                             step.aspect_id)  # fmt: skip
    if aspect is None:
        problems.append(InputProblem(at_aspect if why.startswith("aspect") else at_vnf,
                                     f"VNF {step.vnf!r}: {why}"))  # fmt: skip
        return None
    current = counts[step.vnf]
    level = aspect.level_of(current)
    if level is None:
        level = 0 if current < aspect.initial else None
    if level is None:
        problems.append(InputProblem(at_aspect, f"aspect {aspect.aspect_id!r}: VNF {step.vnf!r} "
                                     f"runs {current} instances, at no level of it"))  # fmt: skip
        return None
    target = level + step.steps
    if not 0 <= target <= aspect.max_scale_level:
        problems.append(InputProblem(
            f"{step.where}.scaleByStepData.numberOfSteps",
            f"aspect {aspect.aspect_id!r} would go to level {target}, outside "
            f"0..{aspect.max_scale_level} (it is at {level})"))  # fmt: skip
        return None
    count = aspect.instances_at(target)
    if count > MAX_INSTANCES:
        problems.append(InputProblem(at_aspect, f"aspect {aspect.aspect_id!r} at level {target} "
                                     f"is {count} instances; a site runs at most "
                                     f"{MAX_INSTANCES} of a VNF"))  # fmt: skip
        return None
    return count


def _counted(vnf: dict[str, Any], instances: int) -> dict[str, Any]:
    """The VNF's entry with `instances` (left out at 1, as the contract writes it)."""
    kept = {k: v for k, v in vnf.items() if k != "instances"}
    return kept if instances == 1 else kept | {"instances": instances}


def _contract_problems(
    template: dict[str, Any], counts: dict[str, int], steps: Sequence[VnfScaleStep]
) -> list[InputProblem]:
    """What the site contract refuses of the scaled entry (a VNF first or last in the chain,
    next to another scaled one...), under the field of the step that asked for it."""
    entry = template | {"vnfs": [_counted(v, counts[v["name"]]) for v in template["vnfs"]]}
    try:
        DesiredState.from_document(0, {"services": [entry]})
    except DocumentError as exc:
        names = [str(v["name"]) for v in template["vnfs"]]
        found = []
        for problem in exc.problems:
            path = problem.path  # services, 0, vnfs, <index>, ...
            index = path[3] if len(path) > 3 and path[2] == "vnfs" else None
            vnf = names[index] if isinstance(index, int) and index < len(names) else None
            step = next((s for s in steps if s.vnf == vnf), steps[0])
            found.append(InputProblem(f"{step.where}.vnfInstanceId",
                                      f"VNF {step.vnf!r} {problem.message}"
                                      if vnf is None else problem.message))  # fmt: skip
        return found
    return []
