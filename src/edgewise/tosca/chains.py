"""Service chains of an NSD, for the model builder: NFP -> positions -> elements -> VNF hops.

SOL001 NSDs often aim an NfpPositionElement's profile_element at a tosca.nodes.nfv.Forwarding
node or at a connection point rather than at the VNF itself. Each hop is resolved to the VNF
(or PNF, or nested NS) that node belongs to; the node the NSD names stays as the hop's
connection point, so ServiceChain.nodes lists VNFs in order and nothing is lost.
"""

from __future__ import annotations

from edgewise.tosca.model import ChainHop, ServiceChain
from edgewise.tosca.problems import Mark, ProblemLog
from edgewise.tosca.topology import NodeTemplate, Requirement, Topology

NFV = "tosca.nodes.nfv."
FUNCTIONS = (NFV + "VNF", NFV + "PNF", NFV + "NS")
CONNECTION_POINT = NFV + "Cp"
LINKS = (NFV + "NsVirtualLink", NFV + "VnfVirtualLink")


def build_chain(nfp: NodeTemplate, topology: Topology, log: ProblemLog) -> ServiceChain:
    """The ordered hops of one NFP; a hop that cannot be resolved keeps the node it names."""
    hops: list[ChainHop] = []
    for position_req in nfp.requirements:
        position = topology.nodes.get(position_req.target or "")
        if position is None:
            continue
        for element_req in position.requirements:
            element = topology.nodes.get(element_req.target or "")
            if element is None:
                continue
            targets = [r for r in element.requirements if r.name == "profile_element"]
            if not targets:
                hops.append(_Resolver(topology, log).hop(element, element_req))
            for target_req in targets:
                target = topology.nodes.get(target_req.target or "")
                if target is not None:
                    hops.append(_Resolver(topology, log).hop(target, target_req))
    return ServiceChain(nfp.name, tuple(hops))


def _is(node: NodeTemplate, ancestors: tuple[str, ...]) -> bool:
    return node.type is not None and any(a in node.type.ancestors for a in ancestors)


class _Resolver:
    """Finds the function a Forwarding or connection point node belongs to."""

    def __init__(self, topology: Topology, log: ProblemLog) -> None:
        self.nodes = topology.nodes
        self.file = topology.file
        self.log = log

    def hop(self, node: NodeTemplate, via: Requirement) -> ChainHop:
        if _is(node, FUNCTIONS):
            return ChainHop(node.name, via.capability)
        owners = self.owners(node, {node.name})
        if len(owners) == 1:
            return ChainHop(owners[0], via.capability or node.name)
        if not _is(node, (CONNECTION_POINT,)) or owners:
            found = ", ".join(owners) if owners else "none"
            self.log.add(
                via.mark or Mark(self.file),
                via.path,
                "chain.hop",
                f"cannot tell which VNF the chain hop '{node.name}' belongs to (candidates: "
                f"{found}); bind it to exactly one VNF, e.g. through a virtual link only that "
                "VNF uses, or name the VNF as profile_element",
                "warning",
            )
        return ChainHop(node.name, via.capability)

    def owners(self, node: NodeTemplate, seen: set[str]) -> list[str]:
        """Functions bound to the node: directly, through a connection point, or (not for a
        connection point, which is an endpoint of its own) through the one link they share."""
        bound = [
            other.name
            for other in self.nodes.values()
            if _is(other, FUNCTIONS) and any(r.target == node.name for r in other.requirements)
        ]
        targets = [self.nodes[r.target] for r in node.requirements if r.target in self.nodes]
        bound += [t.name for t in targets if _is(t, FUNCTIONS)]
        for cp in targets:
            if _is(cp, (CONNECTION_POINT,)) and cp.name not in seen:
                seen.add(cp.name)
                bound += self.owners(cp, seen)
        if bound or _is(node, (CONNECTION_POINT,)):
            return list(dict.fromkeys(bound))
        links = {t.name for t in targets if _is(t, LINKS)}
        return [
            other.name
            for other in self.nodes.values()
            if _is(other, FUNCTIONS) and any(r.target in links for r in other.requirements)
        ]
