"""Auto-scaling declared in a VNFD: Edgewise's `edgewise.policies.AutoScale` (builtin
edgewise.yaml) read into the flavour's model, and its load-time checks (positioned problems).

The properties are those of an operator's rule (orchestrator/autoscale_rules.py): the aspect to
scale by, the metric whose rate per second is judged, the band, the cool-down and the levels.
The type checks bound each value; here the values are checked against each other and against
the flavour's `ScalingAspects`. At instantiation each policy becomes a rule of the NS instance
for the VNF (orchestrator/autoscale_seed.py).
"""

from __future__ import annotations

from typing import Final

from edgewise.tosca.model import AutoScalePolicy
from edgewise.tosca.problems import Mark, ProblemLog
from edgewise.tosca.topology import PolicyTemplate, Topology
from edgewise.tosca.vnfscaling import ASPECTS
from edgewise.tosca.yamltree import Node, plain

AUTOSCALE: Final = "edgewise.policies.AutoScale"
MAX_PER_FLAVOUR: Final = 16  # as many as an NS instance may have rules


def read_autoscale(topology: Topology) -> tuple[AutoScalePolicy, ...]:
    """The flavour's auto-scaling policies (pure; the values were checked at load)."""
    found: list[AutoScalePolicy] = []
    for policy in _policies(topology):
        props = _values(policy)
        found.append(
            AutoScalePolicy(
                name=policy.name,
                aspect_id=str(props.get("aspect", "")),
                metric=str(props.get("metric", "PacketCount")),
                scale_out_above=_number(props.get("scale_out_above")),
                scale_in_below=_number(props.get("scale_in_below")),
                cooldown_s=int(_number(props.get("cooldown_seconds", 300))),
                min_level=int(_number(props.get("min_level", 0))),
                max_level=None if props.get("max_level") is None
                else int(_number(props.get("max_level"))),
            )
        )  # fmt: skip
    return tuple(found)


def check_autoscale(topology: Topology, log: ProblemLog) -> None:
    """Each AutoScale names an aspect of a ScalingAspects policy, its band is a band
    (scale_in_below under scale_out_above) and its levels fit the aspect (min < max <=
    max_scale_level); problems at the property that says otherwise."""
    policies = _policies(topology)
    if not policies:
        return
    tops = _max_levels(topology)
    if len(policies) > MAX_PER_FLAVOUR:
        first = next(iter(policies[MAX_PER_FLAVOUR].properties.values()), None)
        log.add(_mark(first, topology), f"topology_template.policies.{policies[-1].name}",
                "vnf.autoscale", f"{len(policies)} AutoScale policies: at most "
                f"{MAX_PER_FLAVOUR}")  # fmt: skip
    for policy in policies:
        where = f"topology_template.policies.{policy.name}.properties"
        props, nodes = _values(policy), policy.properties
        aspect = str(props.get("aspect", ""))
        if aspect not in tops:
            known = ", ".join(sorted(tops)) or "none"
            log.add(_mark(nodes.get("aspect"), topology), f"{where}.aspect", "vnf.autoscale",
                    f"aspect {aspect!r} is declared by no ScalingAspects policy (declared: "
                    f"{known})")  # fmt: skip
        out, below = props.get("scale_out_above"), props.get("scale_in_below")
        if isinstance(out, int | float) and isinstance(below, int | float) and not below < out:
            log.add(_mark(nodes.get("scale_in_below"), topology), f"{where}.scale_in_below",
                    "vnf.autoscale", f"{below:g} must be under scale_out_above ({out:g}): the "
                    "band between them is the hysteresis")  # fmt: skip
        low = props.get("min_level", 0)
        high = props.get("max_level", tops.get(aspect))
        top = tops.get(aspect)
        if _outside(low, high, top):
            field = "max_level" if "max_level" in nodes else "min_level"
            log.add(_mark(nodes.get(field), topology), f"{where}.{field}", "vnf.autoscale",
                    f"levels {low}..{high}: min_level under max_level, max_level at most "
                    f"the aspect's max_scale_level ({top})")  # fmt: skip


def _outside(low: object, high: object, top: int | None) -> bool:
    """The levels are known and not min < max <= the aspect's top."""
    if not isinstance(low, int) or not isinstance(high, int) or top is None:
        return False  # the type's checks, or the aspect's, say what is wrong
    return not low < high <= top


def _policies(topology: Topology) -> list[PolicyTemplate]:
    return [p for p in topology.policies if p.type is not None and AUTOSCALE in p.type.ancestors]


def _values(policy: PolicyTemplate) -> dict[str, object]:
    """The stated values over the type's defaults."""
    props: dict[str, object] = {}
    if policy.type is not None:
        for name, schema in policy.type.properties.items():
            default = getattr(schema, "default", None)
            if isinstance(default, Node):
                props[name] = plain(default)
    props.update({k: plain(v) for k, v in policy.properties.items()})
    return props


def _max_levels(topology: Topology) -> dict[str, int]:
    """Each aspect a ScalingAspects policy declares, with its max_scale_level."""
    tops: dict[str, int] = {}
    for policy in topology.policies:
        if policy.type is None or ASPECTS not in policy.type.ancestors:
            continue
        aspects = plain(policy.properties["aspects"]) if "aspects" in policy.properties else {}
        if isinstance(aspects, dict):
            for aspect_id, body in aspects.items():
                level = body.get("max_scale_level") if isinstance(body, dict) else None
                tops[str(aspect_id)] = level if isinstance(level, int) else 0
    return tops


def _mark(node: Node | None, topology: Topology) -> Mark:
    return node.mark(topology.file) if node is not None else Mark(topology.file)


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
