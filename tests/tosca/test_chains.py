"""Chain hops name the VNFs, whether an NFP element points at a VNF, a Forwarding or a CP."""

from __future__ import annotations

from edgewise.tosca import ChainHop, Nsd, TypeCache, load_bytes, load_path

from .conftest import DATA, SAMPLES

CHAIN = """\
tosca_definitions_version: tosca_simple_yaml_1_3
topology_template:
  node_templates:
    ns: {type: tosca.nodes.nfv.NS, properties: {descriptor_id: n, designer: d, version: "1",
         name: n, invariant_id: n, flavour_id: f}}
    lan: {type: tosca.nodes.nfv.Sap, properties: {layer_protocols: [ipv4]},
          requirements: [{internal_virtual_link: lan_vl}]}
    lan_vl: &vl
      type: tosca.nodes.nfv.NsVirtualLink
      properties:
        connectivity_type: {layer_protocols: [ipv4]}
        vl_profile: {max_bitrate_requirements: {root: 1}, min_bitrate_requirements: {root: 1}}
    mid_vl: *vl
    fw: {type: edgewise.nodes.Firewall, requirements: [{inside: lan_vl}, {outside: mid_vl}]}
    nat: {type: edgewise.nodes.Nat, requirements: [{inside: nat_fwd}, {outside: mid_vl}]}
    shaper: {type: edgewise.nodes.RateLimiter, requirements: [{inside: mid_vl}]}
    fw_fwd: {type: tosca.nodes.nfv.Forwarding, requirements: [{virtual_link: lan_vl}]}
    nat_fwd: {type: tosca.nodes.nfv.Forwarding}
    mid_fwd: {type: tosca.nodes.nfv.Forwarding, requirements: [{virtual_link: mid_vl}]}
    path: {type: tosca.nodes.nfv.NFP,
           requirements: [{nfp_position: p1}, {nfp_position: p2}, {nfp_position: p3},
                          {nfp_position: p4}]}
    p1: {type: tosca.nodes.nfv.NfpPosition, requirements: [{element: e1}]}
    p2: {type: tosca.nodes.nfv.NfpPosition, requirements: [{element: e2}]}
    p3: {type: tosca.nodes.nfv.NfpPosition, requirements: [{element: e3}]}
    p4: {type: tosca.nodes.nfv.NfpPosition, requirements: [{element: e4}]}
    e1: {type: tosca.nodes.nfv.NfpPositionElement, requirements: [{profile_element: lan}]}
    e2: {type: tosca.nodes.nfv.NfpPositionElement, requirements: [{profile_element: fw_fwd}]}
    e3: {type: tosca.nodes.nfv.NfpPositionElement, requirements: [{profile_element: nat_fwd}]}
    e4: {type: tosca.nodes.nfv.NfpPositionElement, requirements: [{profile_element: mid_fwd}]}
"""


def test_vcpe_sample_chain_names_the_vnfs(cache: TypeCache) -> None:
    nsd = load_path(SAMPLES / "vcpe-nsd.yaml", cache=cache).descriptor
    assert isinstance(nsd, Nsd)
    assert [chain.nodes for chain in nsd.chains] == [("firewall", "nat")]


def test_forwarding_nodes_resolve_through_their_virtual_link(cache: TypeCache) -> None:
    nsd = load_path(DATA / "branch-nsd-v331.yaml", cache=cache).descriptor
    assert isinstance(nsd, Nsd)
    assert nsd.chains[0].nodes == ("firewall", "wan_optimiser")
    assert [hop.connection_point for hop in nsd.chains[0].hops] == [
        "fw_forwarding",
        "opt_forwarding",
    ]


def test_each_kind_of_hop(cache: TypeCache) -> None:
    result = load_bytes(CHAIN.encode(), "nsd.yaml", cache=cache)
    nsd = result.descriptor
    assert isinstance(nsd, Nsd), [str(p) for p in result.problems]
    assert nsd.chains[0].hops == (
        ChainHop("lan"),  # a SAP is an endpoint of the NS itself
        ChainHop("fw", "fw_fwd"),  # the only VNF on the Forwarding node's link
        ChainHop("nat", "nat_fwd"),  # the VNF binds to the Forwarding node
        ChainHop("mid_fwd"),  # two VNFs share mid_vl: left as written, with a warning
    )
    [warning] = result.problems
    assert (warning.code, warning.severity, warning.line) == ("chain.hop", "warning", 30)
    assert warning.path == "topology_template.node_templates.e4.requirements[0].profile_element"
    assert "fw, nat, shaper" in warning.message
