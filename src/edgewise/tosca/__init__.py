"""Edgewise's TOSCA / ETSI SOL001 descriptor loader: YAML or CSAR in, typed VNFD/NSD out.

Flow: package (dir, zip, upload) -> yamltree (positioned nodes, composed by yamlscan) ->
typeparse (types per file, cached by content hash) -> registry (inheritance, over the built-ins
compiled once per process) -> topology (checks) -> build (model, with nativebuild for Edgewise
function configs and chains for NFP hops).
"""

from edgewise.tosca.cache import TypeCache
from edgewise.tosca.limits import Limits
from edgewise.tosca.loader import load_bytes, load_path
from edgewise.tosca.model import (
    ChainHop,
    InstantiationLevel,
    LoadResult,
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
from edgewise.tosca.problems import Problem

__all__ = [
    "ChainHop",
    "InstantiationLevel",
    "Limits",
    "LoadResult",
    "NsScalingAspect",
    "Nsd",
    "Problem",
    "ScalingAspect",
    "ScalingDelta",
    "ServiceChain",
    "TypeCache",
    "Vdu",
    "VnfFlavour",
    "VnfProfile",
    "Vnfd",
    "load_bytes",
    "load_path",
]
