"""A VNFD's scaling aspects as Edgewise scales a VNF (SOL005 SCALE_VNF): how many instances of
the VNF run at each level of an aspect (pure, over the loaded model), and the load-time checks
of the policies that declare them (positioned problems, like every other check).

SOL001 says it per VDU: `VduInitialDelta` (instances at level 0), `ScalingAspects` (each
aspect's `max_scale_level` and `step_deltas`, one delta id per step, the last repeating) and
`VduScalingAspectDeltas` (instances each delta id adds). An Edgewise VNF instance is the whole
VNF, so an aspect's deltas must all be of one VDU, whose count is then the VNF's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from edgewise.tosca.model import VnfFlavour
from edgewise.tosca.problems import Mark, ProblemLog
from edgewise.tosca.topology import Topology
from edgewise.tosca.yamltree import Node, plain

ASPECTS: Final = "tosca.policies.nfv.ScalingAspects"
DELTAS: Final = "tosca.policies.nfv.VduScalingAspectDeltas"
MAX_LEVEL: Final = 64  # levels looked through when reading a count back (bounded)


@dataclass(frozen=True)
class VnfAspect:
    """One scaling aspect of a VNF: its VDU's instances at level 0 and per step."""

    aspect_id: str
    vdu: str
    max_scale_level: int
    initial: int
    step_deltas: tuple[int, ...]  # instances step k adds: [k-1], the last for later steps

    def instances_at(self, level: int) -> int:
        if not 0 <= level <= self.max_scale_level:
            raise ValueError(f"level {level} is outside 0..{self.max_scale_level}")
        steps = self.step_deltas or (1,)
        return self.initial + sum(steps[min(k, len(steps) - 1)] for k in range(level))

    def level_of(self, instances: int) -> int | None:
        """The level that runs `instances`; None when none does."""
        for level in range(min(self.max_scale_level, MAX_LEVEL) + 1):
            if self.instances_at(level) == instances:
                return level
        return None


def vnf_aspects(flavour: VnfFlavour) -> tuple[dict[str, VnfAspect], dict[str, str]]:
    """The flavour's aspects Edgewise can scale by, and why each other one is not."""
    usable: dict[str, VnfAspect] = {}
    refused: dict[str, str] = {}
    initial = dict(flavour.initial_deltas)
    for aspect in flavour.scaling_aspects:
        deltas = [d for d in flavour.scaling_deltas if d.aspect_id == aspect.aspect_id]
        vdus = sorted({d.vdu for d in deltas})
        if len(vdus) != 1:
            refused[aspect.aspect_id] = (
                f"its deltas are of {len(vdus)} VDUs ({', '.join(vdus) or 'none'}): an "
                "Edgewise VNF scales as a whole, by the deltas of one VDU"
            )
            continue
        by_id = {d.delta_id: d.instances for d in deltas}
        missing = [s for s in aspect.step_deltas if s not in by_id]
        if missing:
            refused[aspect.aspect_id] = f"its step_deltas name undeclared deltas: {missing}"
            continue
        steps = tuple(by_id[s] for s in aspect.step_deltas) or tuple(by_id.values())[:1]
        usable[aspect.aspect_id] = VnfAspect(aspect.aspect_id, vdus[0], aspect.max_scale_level,
                                             initial.get(vdus[0], 1), steps)  # fmt: skip
    return usable, refused


def check_vnf_scaling(topology: Topology, log: ProblemLog) -> None:
    """Each aspect's step_deltas are deltas declared for it, and each VduScalingAspectDeltas
    names a declared aspect (problems at the property that says otherwise)."""
    declared: dict[str, set[str]] = {}  # aspect -> delta ids
    steps: dict[str, tuple[list[str], Mark]] = {}
    claims: list[tuple[str, Mark, str]] = []
    for policy in topology.policies:
        if policy.type is None:
            continue
        kinds = policy.type.ancestors
        if ASPECTS in kinds and "aspects" in policy.properties:
            for aspect_id, body in _children(policy.properties["aspects"]).items():
                node = _children(body).get("step_deltas")
                if node is not None and isinstance(node.value, list):
                    ids = [str(plain(child)) for child in node.value]
                    steps[aspect_id] = (ids, node.mark(topology.file))
                else:
                    steps.setdefault(aspect_id, ([], body.mark(topology.file)))
        elif DELTAS in kinds and "aspect" in policy.properties:
            node = policy.properties["aspect"]
            aspect = str(plain(node))
            deltas = policy.properties.get("deltas")
            delta_ids = set(_children(deltas)) if deltas is not None else set()
            declared.setdefault(aspect, set()).update(delta_ids)
            claims.append((aspect, node.mark(topology.file), policy.name))
    for aspect, mark, name in claims:
        if aspect not in steps:
            log.add(mark, f"topology_template.policies.{name}.properties.aspect", "vnf.scaling",
                    f"aspect {aspect!r} is declared by no ScalingAspects policy")  # fmt: skip
    for aspect, (ids, mark) in steps.items():
        missing = [i for i in ids if i not in declared.get(aspect, set())]
        if missing:
            log.add(mark, f"aspects.{aspect}.step_deltas", "vnf.scaling",
                    f"names deltas no VduScalingAspectDeltas of aspect {aspect!r} declares: "
                    + ", ".join(missing))  # fmt: skip


def _children(node: Node) -> dict[str, Node]:
    value = node.value
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}
