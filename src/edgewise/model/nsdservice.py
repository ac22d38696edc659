"""An NSD, made into the service a site runs: its native VNFs, their configs, the chain order.

The central does this when it instantiates a network service on sites; the result is the
`services[]` entry of each site's desired-state document (see desired.py). Only VNFs of the
Edgewise native types can run on a site's data plane today; any other VNF profile makes the
NSD not deployable, and every such profile is named.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from edgewise.model.desired import ServiceSpec, VnfFunction, VnfSpec
from edgewise.tosca.model import Nsd
from edgewise.tosca.native import (
    ClassifierConfig,
    EdgewiseFunction,
    FirewallConfig,
    NatConfig,
    ProcessConfig,
    RateLimiterConfig,
    RouterConfig,
)


class NotDeployable(ValueError):
    """The NSD cannot run on a site; `problems` says which node and why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def service_from_nsd(nsd: Nsd, *, service_id: str, name: str, tenant: str) -> ServiceSpec:
    """The service of `nsd` for one site; raises NotDeployable naming every unusable VNF."""
    problems: list[str] = []
    vnfs: list[VnfSpec] = []
    for profile in nsd.vnf_profiles:
        if profile.function is None:
            problems.append(
                f"{profile.node}: VNF type {profile.type_name} (VNFD {profile.vnfd_id}) is not an "
                "Edgewise native function; a site can run only edgewise.nodes.* VNFs today"
            )
            continue
        function, config = config_document(profile.function)
        vnfs.append(VnfSpec(profile.node, function, config))
    if not nsd.vnf_profiles:
        problems.append(f"NSD {nsd.descriptor_id} has no VNF: there is nothing to run on a site")
    if problems:
        raise NotDeployable(problems)
    return ServiceSpec(service_id, name, tenant, tuple(vnfs), chain_order(nsd))


def chain_order(nsd: Nsd) -> tuple[str, ...]:
    """The VNFs of the NSD's first forwarding path, LAN side first; without a path, the VNF
    nodes in descriptor order (a site wires one chain per service)."""
    vnf_nodes = [p.node for p in nsd.vnf_profiles]
    for chain in nsd.chains:
        hops = tuple(dict.fromkeys(n for n in chain.nodes if n in vnf_nodes))
        if hops:
            return hops
    return tuple(vnf_nodes)


def config_document(config: EdgewiseFunction) -> tuple[VnfFunction, dict[str, Any]]:
    """The function and the desired-state config (the SOL001 property names) of a typed one."""
    if isinstance(config, FirewallConfig):
        rules = [_without_none(asdict(rule)) for rule in config.rules]
        for rule in rules:
            if "port_range" in rule:
                rule["port_range"] = list(rule["port_range"])
        return VnfFunction.FIREWALL, {"default_action": config.default_action, "rules": rules}
    if isinstance(config, NatConfig):
        nat: dict[str, Any] = {
            "mode": config.mode,
            "port_forwards": [asdict(f) for f in config.port_forwards],
        }
        if config.source_address is not None:
            nat["source_address"] = config.source_address
        return VnfFunction.NAT, nat
    if isinstance(config, RateLimiterConfig):
        return VnfFunction.RATE_LIMITER, _without_none(
            {
                "ingress_rate": config.ingress_bps,
                "egress_rate": config.egress_bps,
                "burst": config.burst_bytes,
            }
        )
    if isinstance(config, ClassifierConfig):
        classes = [
            _without_none(
                {
                    "name": c.name,
                    "protocol": c.protocol,
                    "ports": list(c.ports),
                    "dscp": c.dscp,
                    "prefixes": list(c.prefixes),
                }
            )
            for c in config.classes
        ]
        return VnfFunction.CLASSIFIER, {"classes": classes}
    if isinstance(config, RouterConfig):
        return VnfFunction.ROUTER, {"routes": [_without_none(asdict(r)) for r in config.routes]}
    assert isinstance(config, ProcessConfig)
    return VnfFunction.PROCESS, {
        "command": config.command,
        "args": list(config.args),
        "env": dict(config.env),
        "restart": config.restart,
    }


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
