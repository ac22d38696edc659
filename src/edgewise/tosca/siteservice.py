"""An NSD, made into the service a site runs: its native VNFs, their configs, the chain order.

The central does this when it instantiates a network service on sites; the result is the
`services[]` entry of each site's desired-state document (see desired.py). Only VNFs of the
Edgewise native types can run on a site's data plane today; any other VNF profile makes the
NSD not deployable, and every such profile is named.
"""

from __future__ import annotations

from edgewise.model.desired import ServiceSpec, VnfSpec
from edgewise.model.fields import read
from edgewise.model.functions import function_of
from edgewise.model.problems import DocumentError
from edgewise.tosca.model import Nsd

UNASSIGNED = "unassigned"  # the id or tenant of a service made for many sites, set per site


class NotDeployable(ValueError):
    """The NSD cannot run on a site; `problems` says which node and why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def service_from_nsd(nsd: Nsd, *, service_id: str, name: str, tenant: str) -> ServiceSpec:
    """The service of `nsd` for one site, read through the desired-state contract (so it is a
    service every site accepts); raises NotDeployable naming every unusable VNF."""
    problems: list[str] = []
    vnfs: list[VnfSpec] = []
    for profile in nsd.vnf_profiles:
        if profile.function is None:
            problems.append(
                f"{profile.node}: VNF type {profile.type_name} (VNFD {profile.vnfd_id}) is not an "
                "Edgewise native function; a site can run only edgewise.nodes.* VNFs today"
            )
            continue
        vnfs.append(VnfSpec(profile.node, function_of(profile.function), profile.function))
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
