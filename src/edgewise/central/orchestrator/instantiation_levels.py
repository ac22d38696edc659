"""The instances each VNF of an NS starts with: its VNFD flavour's default instantiation level
(SOL001 `InstantiationLevels` default_level, by the aspects' `scale_info` or the VDU's
`VduInstantiationLevels`), read when the NS is instantiated (orchestrator.lifecycle), so that
an elastic VNF does not always start as one instance (docs/elastic-vnfs.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.software import package_of
from edgewise.central.services.errors import InputProblem
from edgewise.model.desired import MAX_INSTANCES, DesiredState, DocumentError
from edgewise.tosca import Nsd
from edgewise.tosca.model import VnfFlavour
from edgewise.tosca.vnfscaling import vnf_aspects

WHERE = "nsdId"


def count_at_default(flavour: VnfFlavour) -> int | None:
    """The VNF's instances at the flavour's default level (pure); None when the flavour has no
    default level or its VNF scales by no aspect Edgewise can scale by."""
    level = next((lv for lv in flavour.instantiation_levels
                  if lv.level_id == flavour.default_instantiation_level), None)  # fmt: skip
    if level is None:
        return None
    usable, _ = vnf_aspects(flavour)
    scale_info, vdu_instances = dict(level.scale_info), dict(level.vdu_instances)
    for aspect in usable.values():
        step = scale_info.get(aspect.aspect_id)
        if step is not None and 0 <= step <= aspect.max_scale_level:
            return aspect.instances_at(step)
        if aspect.vdu in vdu_instances:
            return vdu_instances[aspect.vdu]
    return None


def default_counts(
    session: Session, nsds: NsdModels, nsd: Nsd, tenant_id: str | None
) -> tuple[dict[str, int], list[InputProblem]]:
    """The VNFs (by name in the NS) that start as more than one instance, and the problems."""
    counts: dict[str, int] = {}
    problems: list[InputProblem] = []
    for profile in nsd.vnf_profiles:
        package, _ = package_of(session, profile.vnfd_id, tenant_id, enabled=False)
        if package is None:
            continue  # the software resolution and the service entry refuse what is missing
        vnfd = nsds.vnfd(package)
        flavour = next((f for f in vnfd.flavours if f.flavour_id == profile.flavour_id), None)
        flavour = flavour or (vnfd.flavours[0] if vnfd.flavours else None)
        count = count_at_default(flavour) if flavour is not None else None
        if count is None or count == 1:
            continue
        if not 1 <= count <= MAX_INSTANCES:
            problems.append(InputProblem(WHERE, f"VNF {profile.node}: the default "
                                         f"instantiation level of VNFD {profile.vnfd_id!r} is "
                                         f"{count} instances; a site runs 1 to "
                                         f"{MAX_INSTANCES} of a VNF"))  # fmt: skip
            continue
        counts[profile.node] = count
    return counts, problems


def counted(service: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    """The service entry with each VNF of `counts` at its count."""
    if not counts:
        return service
    vnfs = [v | {"instances": counts[v["name"]]} if v.get("name") in counts else v
            for v in service.get("vnfs", [])]  # fmt: skip
    return service | {"vnfs": vnfs}


def contract_problems(service: dict[str, Any], counts: dict[str, int]) -> list[InputProblem]:
    """What the site contract refuses of the counted entry (a VNF first or last in the chain
    as several instances...)."""
    if not counts:
        return []
    try:
        DesiredState.from_document(0, {"services": [service]})
    except DocumentError as exc:
        return [InputProblem(WHERE, f"at the VNFDs' default instantiation levels: {p.message}")
                for p in exc.problems]  # fmt: skip
    return []
