"""An NSD made into a site's service: every native function's config survives the trip through
the desired-state document to the site, the chain follows the NFP, and foreign VNFs are named,
not dropped."""

from __future__ import annotations

from ipaddress import IPv4Network
from pathlib import Path

import pytest

from edgewise.lab import samples
from edgewise.model.desired import DesiredState, VnfFunction
from edgewise.model.functions import FirewallConfig
from edgewise.tosca import Nsd, load_bytes, load_path
from edgewise.tosca.siteservice import NotDeployable, chain_order, service_from_nsd

REPO = Path(__file__).resolve().parents[2]

EVERY_FUNCTION = """\
tosca_definitions_version: tosca_simple_yaml_1_3
topology_template:
  node_templates:
    ns: {type: tosca.nodes.nfv.NS, properties: {descriptor_id: every, designer: d, version: "1",
         name: every, invariant_id: every, flavour_id: default}}
    edge: {type: edgewise.nodes.Router, properties: {routes: [
      {destination: 10.9.0.0/16, via: 10.255.0.1, metric: 5},
      {destination: 0.0.0.0/0, device: wan}]}}
    guard: {type: edgewise.nodes.Firewall, properties: {default_action: reject, rules: [
      {action: accept, protocol: tcp, port_range: [8000, 8100], destination: 10.1.0.0/16},
      {action: drop, protocol: udp, port: 53, direction: inbound, description: no dns}]}}
    nat: {type: edgewise.nodes.Nat, properties: {mode: snat, source_address: 198.51.100.7,
      port_forwards: [{protocol: udp, port: 5060, to_address: 10.0.0.9}]}}
    shaper: {type: edgewise.nodes.RateLimiter,
             properties: {ingress_rate: 50 Mbps, egress_rate: 2 Gbps, burst: 64 KiB}}
    sorter: {type: edgewise.nodes.Classifier, properties: {classes: [
      {name: voice, protocol: udp, ports: [5060, 5061], dscp: 46},
      {name: office, prefixes: [10.8.0.0/16]}]}}
    helper: {type: edgewise.nodes.Process, properties: {command: /usr/sbin/dnsmasq,
      args: [--no-daemon], env: {LANG: C}, restart: always}}
"""


def load(text: str) -> Nsd:
    result = load_bytes(text.encode(), "nsd.yaml")
    assert isinstance(result.descriptor, Nsd), [str(p) for p in result.problems]
    return result.descriptor


def test_every_native_config_reads_back_the_same_on_the_site() -> None:
    nsd = load(EVERY_FUNCTION)
    service = service_from_nsd(nsd, service_id="s1", name="every", tenant="t1")
    assert [v.function for v in service.vnfs] == [
        VnfFunction.ROUTER, VnfFunction.FIREWALL, VnfFunction.NAT,
        VnfFunction.RATE_LIMITER, VnfFunction.CLASSIFIER, VnfFunction.PROCESS,
    ]  # fmt: skip
    assert service.chain == ("edge", "guard", "nat", "shaper", "sorter", "helper")
    at_site = DesiredState.from_document(1, {"services": [service.to_document()]})
    assert at_site.services == (service,)
    profiles = {p.node: p for p in nsd.vnf_profiles}
    for vnf in at_site.services[0].vnfs:
        assert vnf.config == profiles[vnf.name].function, vnf.name


def test_the_vcpe_sample_becomes_firewall_then_nat() -> None:
    result = load_path(samples.path("vcpe-nsd.yaml"))
    assert isinstance(result.descriptor, Nsd)
    service = service_from_nsd(result.descriptor, service_id="s", name="v", tenant="t")
    assert service.chain == ("firewall", "nat")
    firewall = service.vnf("firewall")
    assert firewall is not None
    assert isinstance(firewall.config, FirewallConfig)
    assert firewall.config.rules[0].source == IPv4Network("192.168.10.0/24")  # get_input resolved


def test_a_vnf_that_is_not_native_is_named() -> None:
    result = load_path(REPO / "tests" / "tosca" / "data" / "branch-nsd-v331.yaml")
    assert isinstance(result.descriptor, Nsd)
    assert chain_order(result.descriptor) == ("firewall", "wan_optimiser")
    with pytest.raises(NotDeployable) as caught:
        service_from_nsd(result.descriptor, service_id="s", name="b", tenant="t")
    assert [p.split(":")[0] for p in caught.value.problems] == ["firewall", "wan_optimiser"]
    assert "VNF type tosca.nodes.nfv.VNF (VNFD acme-wanopt-0007)" in caught.value.problems[1]
    assert all("not an Edgewise native function" in p for p in caught.value.problems)
