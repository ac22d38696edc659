"""Checked topologies -> Vnfd or Nsd: reads effective property values, policies and paths."""

from __future__ import annotations

from collections.abc import Mapping

from edgewise.model.functions import FunctionConfig
from edgewise.tosca.chains import build_chain
from edgewise.tosca.model import (
    InstantiationLevel,
    Nsd,
    NsScalingAspect,
    ScalingAspect,
    ScalingDelta,
    ServiceChain,
    Vdu,
    Vnfd,
    VnfFlavour,
    VnfProfile,
)
from edgewise.tosca.nativebuild import build_function
from edgewise.tosca.problems import Mark, ProblemLog
from edgewise.tosca.registry import TypeRegistry
from edgewise.tosca.topology import NodeTemplate, Topology
from edgewise.tosca.values import function_call
from edgewise.tosca.vnfautoscale import read_autoscale
from edgewise.tosca.yamltree import Node, plain

NFV = "tosca.nodes.nfv."


class DescriptorBuilder:
    def __init__(self, registry: TypeRegistry, topologies: list[Topology], log: ProblemLog) -> None:
        self.registry = registry
        self.topologies = topologies
        self.log = log

    def is_a(self, template: NodeTemplate, ancestor: str) -> bool:
        return template.type is not None and ancestor in template.type.ancestors

    def nodes(self, topology: Topology, ancestor: str) -> list[NodeTemplate]:
        return [n for n in topology.nodes.values() if self.is_a(n, ancestor)]

    def check_functions(self) -> None:
        """Reads the config of every native VNF node, so that a descriptor with other problems
        still shows its config problems at once (those the type checks named are not repeated)."""
        for topology in self.topologies:
            for vnf in self.nodes(topology, NFV + "VNF"):
                self._function(vnf, topology, effective(vnf, topology))

    def build(self, entry_file: str) -> Vnfd | Nsd | None:
        ns_like = any(
            (t.substituted_type is not None and NFV + "NS" in t.substituted_type.ancestors)
            or self.nodes(t, NFV + "NS")
            for t in self.topologies
        )
        if ns_like:
            return self._nsd()
        if any(self.nodes(t, NFV + "VNF") for t in self.topologies):
            return self._vnfd()
        self.log.add(
            Mark(entry_file, 1, 1),
            "topology_template",
            "descriptor.kind",
            "this is neither a VNFD nor an NSD: expected a node template whose type derives "
            "from tosca.nodes.nfv.VNF or tosca.nodes.nfv.NS",
        )
        return None

    def _counts(self) -> tuple[int, int]:
        return (
            sum(len(t.nodes) for t in self.topologies),
            sum(len(t.policies) for t in self.topologies),
        )

    def _vnfd(self) -> Vnfd:
        vnf_nodes = [(t, n) for t in self.topologies for n in self.nodes(t, NFV + "VNF")]
        topology, vnf = vnf_nodes[0]
        props = effective(vnf, topology)
        self._function(vnf, topology, props)  # a native VNF on its own: its config is checked
        flavour_topologies = [
            t
            for t in self.topologies
            if t.substituted_type is not None and NFV + "VNF" in t.substituted_type.ancestors
        ] or [t for t, _ in vnf_nodes[:1]]
        nodes, policies = self._counts()
        return Vnfd(
            descriptor_id=_text(props.get("descriptor_id")),
            descriptor_version=_text(props.get("descriptor_version")),
            provider=_text(props.get("provider")),
            product_name=_text(props.get("product_name")),
            software_version=_text(props.get("software_version")),
            product_info_name=_optional(props.get("product_info_name")),
            vnfm_info=tuple(_text(v) for v in _list(props.get("vnfm_info"))),
            flavours=tuple(self._flavour(t) for t in flavour_topologies),
            node_count=nodes,
            policy_count=policies,
        )

    def _flavour(self, topology: Topology) -> VnfFlavour:
        vnf = next(iter(self.nodes(topology, NFV + "VNF")), None)
        vnf_props = effective(vnf, topology) if vnf is not None else {}
        flavour_id = topology.substituted_properties.get("flavour_id")
        chosen = plain(flavour_id) if flavour_id is not None else None
        if not isinstance(chosen, str):
            chosen = vnf_props.get("flavour_id")
        vdus = [self._vdu(n, topology) for n in self.nodes(topology, NFV + "Vdu.Compute")]
        aspects: list[ScalingAspect] = []
        levels: list[InstantiationLevel] = []
        default_level: str | None = None
        vdu_levels: dict[str, list[tuple[str, int]]] = {}
        initial: list[tuple[str, int]] = []
        deltas: list[ScalingDelta] = []
        for policy in topology.policies:
            if policy.type is None:
                continue
            kind = policy.type.ancestors
            props = {k: plain(v) for k, v in policy.properties.items()}
            if "tosca.policies.nfv.ScalingAspects" in kind:
                for aspect_id, aspect in _dict(props.get("aspects")).items():
                    a = _dict(aspect)
                    aspects.append(
                        ScalingAspect(
                            aspect_id,
                            _text(a.get("name")),
                            _text(a.get("description")),
                            _int(a.get("max_scale_level")),
                            tuple(_text(s) for s in _list(a.get("step_deltas"))),
                        )
                    )
            elif "tosca.policies.nfv.VduInstantiationLevels" in kind:
                for level_id, level in _dict(props.get("levels")).items():
                    for target in policy.targets:
                        count = _int(_dict(level).get("number_of_instances"))
                        vdu_levels.setdefault(level_id, []).append((target, count))
            elif "tosca.policies.nfv.InstantiationLevels" in kind:
                default_level = _optional(props.get("default_level"))
                for level_id, level in _dict(props.get("levels")).items():
                    info = _dict(_dict(level).get("scale_info"))
                    levels.append(
                        InstantiationLevel(
                            level_id,
                            _text(_dict(level).get("description")),
                            tuple((k, _int(_dict(v).get("scale_level"))) for k, v in info.items()),
                            (),
                        )
                    )
            elif "tosca.policies.nfv.VduInitialDelta" in kind:
                count = _int(_dict(props.get("initial_delta")).get("number_of_instances"))
                initial.extend((target, count) for target in policy.targets)
            elif "tosca.policies.nfv.VduScalingAspectDeltas" in kind:
                for delta_id, delta in _dict(props.get("deltas")).items():
                    count = _int(_dict(delta).get("number_of_instances"))
                    deltas.extend(
                        ScalingDelta(_text(props.get("aspect")), delta_id, target, count)
                        for target in policy.targets
                    )
        levels = [
            InstantiationLevel(
                lv.level_id, lv.description, lv.scale_info, tuple(vdu_levels.get(lv.level_id, ()))
            )
            for lv in levels
        ]
        return VnfFlavour(
            flavour_id=_text(chosen),
            description=_text(vnf_props.get("flavour_description")),
            vdus=tuple(vdus),
            virtual_links=tuple(n.name for n in self.nodes(topology, NFV + "VnfVirtualLink")),
            connection_points=tuple(n.name for n in self.nodes(topology, NFV + "VduCp")),
            ext_connection_points=tuple(n.name for n in self.nodes(topology, NFV + "VnfExtCp")),
            scaling_aspects=tuple(aspects),
            instantiation_levels=tuple(levels),
            default_instantiation_level=default_level,
            initial_deltas=tuple(initial),
            scaling_deltas=tuple(deltas),
            autoscale=read_autoscale(topology),
        )

    def _vdu(self, node: NodeTemplate, topology: Topology) -> Vdu:
        props = effective(node, topology)
        profile = _dict(props.get("vdu_profile"))
        compute = node.capabilities.get("virtual_compute", {})
        cpu = _dict(plain(compute["virtual_cpu"])) if "virtual_cpu" in compute else {}
        memory = _dict(plain(compute["virtual_memory"])) if "virtual_memory" in compute else {}
        return Vdu(
            name=node.name,
            description=_text(props.get("description")),
            min_instances=_int(profile.get("min_number_of_instances")),
            max_instances=_int(profile.get("max_number_of_instances")),
            num_virtual_cpu=_int(cpu.get("num_virtual_cpu")) if cpu else None,
            virtual_memory=_optional(memory.get("virtual_mem_size")),
        )

    def _nsd(self) -> Nsd:
        props: dict[str, object] = {}
        for topology in self.topologies:
            if topology.substituted_type is not None:
                props.update(defaults(topology.substituted_type.properties))
        for topology in self.topologies:
            for ns in self.nodes(topology, NFV + "NS"):
                props.update({k: v for k, v in effective(ns, topology).items() if v is not None})
        profiles: list[VnfProfile] = []
        chains: list[ServiceChain] = []
        aspects: list[NsScalingAspect] = []
        links: list[str] = []
        saps: list[str] = []
        for topology in self.topologies:
            profiles.extend(self._profile(v, topology) for v in self.nodes(topology, NFV + "VNF"))
            links.extend(n.name for n in self.nodes(topology, NFV + "NsVirtualLink"))
            saps.extend(n.name for n in self.nodes(topology, NFV + "Sap"))
            chains.extend(
                build_chain(nfp, topology, self.log) for nfp in self.nodes(topology, NFV + "NFP")
            )
            for policy in topology.policies:
                if policy.type is None or "aspects" not in policy.properties:
                    continue
                if "tosca.policies.nfv.NsScalingAspects" in policy.type.ancestors:
                    for aspect_id, aspect in _dict(plain(policy.properties["aspects"])).items():
                        a = _dict(aspect)
                        aspects.append(
                            NsScalingAspect(
                                aspect_id,
                                _text(a.get("name")),
                                _text(a.get("description")),
                                _int(a.get("max_scale_level")),
                            )
                        )
        nodes, policies = self._counts()
        vnfd_ids = tuple(dict.fromkeys(p.vnfd_id for p in profiles))
        return Nsd(
            descriptor_id=_text(props.get("descriptor_id")),
            designer=_text(props.get("designer")),
            version=_text(props.get("version")),
            name=_text(props.get("name")),
            invariant_id=_text(props.get("invariant_id")),
            flavour_id=_text(props.get("flavour_id")),
            vnfd_ids=vnfd_ids,
            vnf_profiles=tuple(profiles),
            virtual_links=tuple(links),
            sap=tuple(saps),
            chains=tuple(chains),
            scaling_aspects=tuple(aspects),
            node_count=nodes,
            policy_count=policies,
            chain_count=len(chains),
        )

    def _profile(self, vnf: NodeTemplate, topology: Topology) -> VnfProfile:
        props = effective(vnf, topology)
        profile = _dict(props.get("vnf_profile"))
        return VnfProfile(
            node=vnf.name,
            vnfd_id=_text(props.get("descriptor_id")),
            flavour_id=_text(props.get("flavour_id")),
            min_instances=_int(profile.get("min_number_of_instances"), 1),
            max_instances=_int(profile.get("max_number_of_instances"), 1),
            type_name=vnf.type.name if vnf.type is not None else "",
            function=self._function(vnf, topology, props),
        )

    def _function(
        self, vnf: NodeTemplate, topology: Topology, props: dict[str, object]
    ) -> FunctionConfig | None:
        """The Edgewise native function config of a VNF node (None if it is not native)."""
        if vnf.type is None:
            return None
        return build_function(
            vnf.type.ancestors,
            props,
            owner=vnf.mark or Mark(topology.file),
            path=f"topology_template.node_templates.{vnf.name}",
            written=vnf.properties,
            log=self.log,
        )


def defaults(properties: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, schema in properties.items():
        default = getattr(schema, "default", None)
        if isinstance(default, Node):
            out[name] = plain(default)
    return out


def effective(template: NodeTemplate, topology: Topology) -> dict[str, object]:
    """Property values as the template states them (inputs' defaults filled in) over defaults."""
    props = defaults(template.type.properties) if template.type is not None else {}
    for name, node in template.properties.items():
        props[name] = resolved(node, topology.inputs)
    return props


def resolved(node: Node, inputs: Mapping[str, Node]) -> object:
    """A plain value with get_input replaced by the input's default (None when it has none)."""
    call = function_call(node)
    if call is not None:
        name, argument = call
        definition = inputs.get(argument.value) if isinstance(argument.value, str) else None
        body = definition.value if definition is not None else None
        if name == "get_input" and isinstance(body, dict) and "default" in body:
            return resolved(body["default"], {})
        return None
    value = node.value
    if isinstance(value, dict):
        return {key: resolved(child, inputs) for key, child in value.items()}
    if isinstance(value, list):
        return [resolved(child, inputs) for child in value]
    return value


def _dict(value: object) -> dict[str, object]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _int(value: object, fallback: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else fallback


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _optional(value: object) -> str | None:
    return None if value is None else str(value)
