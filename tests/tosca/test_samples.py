"""The demo's sample descriptors load and expose typed Edgewise function configuration."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from edgewise.model.functions import FirewallConfig, NatConfig, PortForward
from edgewise.tosca import ChainHop, Nsd, TypeCache, Vnfd, load_path

from .conftest import DATA, SAMPLES


def test_vcpe_nsd(cache: TypeCache) -> None:
    result = load_path(SAMPLES / "vcpe-nsd.yaml", cache=cache)
    assert result.problems == ()
    nsd = result.descriptor
    assert isinstance(nsd, Nsd)
    assert nsd.sap == ("lan", "wan")
    assert nsd.vnfd_ids == ("edgewise-firewall", "edgewise-nat")
    [chain] = nsd.chains
    assert chain.hops == (ChainHop("firewall"), ChainHop("nat"))
    firewall, nat = (p.function for p in nsd.vnf_profiles)
    assert isinstance(firewall, FirewallConfig)
    assert firewall.default_action == "drop"
    assert [(r.protocol, r.port) for r in firewall.rules] == [
        ("tcp", 80),
        ("tcp", 443),
        ("icmp", None),
        ("tcp", 22),
        ("tcp", 80),
    ]
    assert firewall.rules[0].source == IPv4Network("192.168.10.0/24")
    assert (firewall.rules[4].direction, firewall.rules[4].destination) == (
        "inbound",
        IPv4Network("192.168.10.20/32"),
    )  # the port forward's target is reachable from the WAN
    assert isinstance(nat, NatConfig)
    assert nat.mode == "masquerade"
    assert nat.port_forwards == (PortForward(8080, IPv4Address("192.168.10.20"), "tcp", 80),)


def test_router_vnf_package(cache: TypeCache) -> None:
    vnfd = load_path(SAMPLES / "edgewise-router-vnf", cache=cache).descriptor
    assert isinstance(vnfd, Vnfd)
    [flavour] = vnfd.flavours
    assert flavour.ext_connection_points == ("lan_cp", "wan_cp")
    assert flavour.vdus[0].virtual_memory == "64 MiB"
    assert flavour.scaling_deltas[0].aspect_id == "router_aspect"


def test_v261_vnfd_by_url(cache: TypeCache) -> None:
    result = load_path(DATA / "firewall-vnfd-v261.yaml", cache=cache)
    assert result.problems == ()
    vnfd = result.descriptor
    assert isinstance(vnfd, Vnfd)
    assert (vnfd.provider, vnfd.descriptor_version, vnfd.node_count, vnfd.policy_count) == (
        "ACME",
        "2.1",
        9,
        6,
    )
    assert vnfd.flavours[0].flavour_id == "small"
    assert vnfd.flavours[0].instantiation_levels[1].vdu_instances == (("engine", 2),)
