"""An NSD, made into the service a site runs: its native VNFs, their configs, the chain order.

The central does this when it instantiates a network service on sites; the result is the
`services[]` entry of each site's desired-state document (see desired.py). A VNF of an
Edgewise native type carries its config in the NSD; any other VNF profile is a third-party VNF
whose SoftwareConfig the caller made from its onboarded package (tosca/software.py) and passes
in `software`; a profile with neither makes the NSD not deployable, and every such one is named.
"""

from __future__ import annotations

from collections.abc import Mapping

from edgewise.model.desired import ServiceSpec, VnfFunction, VnfSpec
from edgewise.model.fields import read
from edgewise.model.functions import function_of
from edgewise.model.problems import DocumentError
from edgewise.model.software import SoftwareConfig
from edgewise.tosca.model import Nsd

UNASSIGNED = "unassigned"  # the id or tenant of a service made for many sites, set per site


class NotDeployable(ValueError):
    """The NSD cannot run on a site; `problems` says which node and why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def service_from_nsd(
    nsd: Nsd,
    *,
    service_id: str,
    name: str,
    tenant: str,
    software: Mapping[str, SoftwareConfig] | None = None,
) -> ServiceSpec:
    """The service of `nsd` for one site, read through the desired-state contract (so it is a
    service every site accepts); `software` holds the config of each third-party VNF by its
    VNF profile's node name. Raises NotDeployable naming every unusable VNF."""
    problems: list[str] = []
    vnfs: list[VnfSpec] = []
    for profile in nsd.vnf_profiles:
        if profile.function is not None:
            vnfs.append(VnfSpec(profile.node, function_of(profile.function), profile.function))
        elif software is not None and profile.node in software:
            vnfs.append(VnfSpec(profile.node, VnfFunction.SOFTWARE, software[profile.node]))
        else:
            problems.append(
                f"{profile.node}: VNF type {profile.type_name} (VNFD {profile.vnfd_id}) is not an "
                "Edgewise native function, and no onboarded VNF package gives its software"
            )
    if not nsd.vnf_profiles:
        problems.append(f"NSD {nsd.descriptor_id} has no VNF: there is nothing to run on a site")
    if problems:
        raise NotDeployable(problems)
    document = {
        "id": service_id,
        "name": name,
        "tenant": tenant,
        "vnfs": [v.to_document() for v in vnfs],
        "chain": list(chain_order(nsd)),
    }
    try:
        return read(ServiceSpec, document)
    except DocumentError as exc:
        raise NotDeployable([str(p) for p in exc.problems]) from exc


def chain_order(nsd: Nsd) -> tuple[str, ...]:
    """The VNFs of the NSD's first forwarding path, LAN side first; without a path, the VNF
    nodes in descriptor order (a site wires one chain per service)."""
    vnf_nodes = [p.node for p in nsd.vnf_profiles]
    for chain in nsd.chains:
        hops = tuple(dict.fromkeys(n for n in chain.nodes if n in vnf_nodes))
        if hops:
            return hops
    return tuple(vnf_nodes)
