"""The loaded descriptor model: frozen VNFD and NSD values handed to the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from edgewise.model.functions import FunctionConfig
from edgewise.tosca.problems import Problem

if TYPE_CHECKING:
    from edgewise.tosca.topology import Topology


@dataclass(frozen=True)
class Vdu:
    name: str
    description: str
    min_instances: int
    max_instances: int
    num_virtual_cpu: int | None
    virtual_memory: str | None


@dataclass(frozen=True)
class ScalingAspect:
    aspect_id: str
    name: str
    description: str
    max_scale_level: int
    step_deltas: tuple[str, ...]


@dataclass(frozen=True)
class InstantiationLevel:
    level_id: str
    description: str
    scale_info: tuple[tuple[str, int], ...]
    vdu_instances: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ScalingDelta:
    """How many instances of a VDU one step of an aspect adds (VduScalingAspectDeltas)."""

    aspect_id: str
    delta_id: str
    vdu: str
    instances: int


@dataclass(frozen=True)
class AutoScalePolicy:
    """An `edgewise.policies.AutoScale` of a VNFD (tosca/vnfautoscale.py): a rate band of the
    VNF's counters that scales it by an aspect; `max_level` None: the aspect's max."""

    name: str
    aspect_id: str
    metric: str
    scale_out_above: float
    scale_in_below: float
    cooldown_s: int
    min_level: int
    max_level: int | None


@dataclass(frozen=True)
class VnfFlavour:
    flavour_id: str
    description: str
    vdus: tuple[Vdu, ...]
    virtual_links: tuple[str, ...]
    connection_points: tuple[str, ...]
    ext_connection_points: tuple[str, ...]
    scaling_aspects: tuple[ScalingAspect, ...]
    instantiation_levels: tuple[InstantiationLevel, ...]
    default_instantiation_level: str | None
    initial_deltas: tuple[tuple[str, int], ...]
    scaling_deltas: tuple[ScalingDelta, ...]
    autoscale: tuple[AutoScalePolicy, ...] = ()


@dataclass(frozen=True)
class Vnfd:
    """A VNF descriptor; counts are over every topology template of the package."""

    descriptor_id: str
    descriptor_version: str
    provider: str
    product_name: str
    software_version: str
    product_info_name: str | None
    vnfm_info: tuple[str, ...]
    flavours: tuple[VnfFlavour, ...]
    node_count: int
    policy_count: int
    chain_count: int = 0
    kind: Literal["vnfd"] = "vnfd"


@dataclass(frozen=True)
class VnfProfile:
    """A VNF node of an NSD: which VNFD it uses, how many, and its Edgewise function if native."""

    node: str
    vnfd_id: str
    flavour_id: str
    min_instances: int
    max_instances: int
    type_name: str
    function: FunctionConfig | None


@dataclass(frozen=True)
class ChainHop:
    """One hop: the VNF (or PNF, NS) traffic crosses, and where it enters when the NSD says:
    the capability named, else the Forwarding or CP node the NFP element points at."""

    node: str
    connection_point: str | None = None


@dataclass(frozen=True)
class ServiceChain:
    """An ordered forwarding path (SOL001 NFP) through the NS's VNFs."""

    name: str
    hops: tuple[ChainHop, ...]

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(hop.node for hop in self.hops)


@dataclass(frozen=True)
class NsScalingAspect:
    aspect_id: str
    name: str
    description: str
    max_scale_level: int


@dataclass(frozen=True)
class Nsd:
    """A network service descriptor."""

    descriptor_id: str
    designer: str
    version: str
    name: str
    invariant_id: str
    flavour_id: str
    vnfd_ids: tuple[str, ...]
    vnf_profiles: tuple[VnfProfile, ...]
    virtual_links: tuple[str, ...]
    sap: tuple[str, ...]
    chains: tuple[ServiceChain, ...]
    scaling_aspects: tuple[NsScalingAspect, ...]
    node_count: int
    policy_count: int
    chain_count: int
    kind: Literal["nsd"] = "nsd"


@dataclass(frozen=True)
class LoadResult:
    """What a load produced: a descriptor when there is no error, and every problem found."""

    descriptor: Vnfd | Nsd | None
    problems: tuple[Problem, ...]
    files: tuple[str, ...]
    # the checked topologies, for readers beyond the model (tosca.software reads a VNFD's)
    topologies: tuple[Topology, ...] = field(default=(), compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.descriptor is not None and not self.errors

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")
