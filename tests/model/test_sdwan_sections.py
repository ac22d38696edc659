"""The site-level sections of the desired state: WAN links, steering, overlays — read, written
back equal, and every broken rule named with its path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from edgewise.model.desired import DesiredState
from edgewise.model.problems import DocumentError

KEY_A = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
KEY_B = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="

SITE: dict[str, Any] = {
    "services": [],
    "links": [
        {"name": "mpls", "kind": "mpls", "interface": "wan0", "address": "198.51.100.2/30",
         "gateway": "198.51.100.1", "bandwidth_up": "20 Mbps", "cost": 10},
        {"name": "inet", "kind": "internet", "interface": "wan1", "dhcp": True,
         "probe": {"protocol": "udp", "port": 7, "targets": ["192.0.2.7"]}},
        {"name": "lte", "kind": "lte", "interface": "wwan0", "gateway": "10.64.0.1",
         "metered": True},
    ],
    "steering": {
        "classes": [
            {"name": "voice", "protocol": "udp", "ports": [5060, 5061]},
            {"name": "saas", "hosts": ["*.example.com"], "applications": ["tls"]},
        ],
        "sla_profiles": [{"name": "realtime", "max_latency_ms": 150, "max_loss_percent": 1}],
        "policies": [
            {"class": "voice", "links": ["mpls", "inet"], "sla": "realtime"},
            {"class": "saas", "links": ["inet", "lte"], "spread": True, "tenant": "acme"},
        ],
        "default_links": ["inet", "mpls", "lte"],
    },
    "overlays": [
        {"tenant": "acme", "topology": "hub-and-spoke", "role": "spoke",
         "address": "10.200.0.2/24", "links": [{"link": "mpls", "port": 51820},
                                               {"link": "inet", "port": 51821}],
         "peers": [{"site": "hub-1", "public_key": KEY_A, "address": "10.200.0.1",
                    "prefixes": ["192.168.0.0/16"],
                    "endpoints": [{"via": "mpls", "address": "198.51.100.9", "port": 51820},
                                  {"via": "inet", "address": "203.0.113.9", "port": 51821}]}]},
    ],
}  # fmt: skip


def problems_of(document: object) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        DesiredState.from_document(1, document)
    return [str(p) for p in caught.value.problems]


def test_the_sections_are_read_typed_and_written_back_equal() -> None:
    state = DesiredState.from_document(3, SITE)
    assert [link.name for link in state.links] == ["mpls", "inet", "lte"]
    assert state.links[0].bandwidth_up == 20_000_000
    assert state.links[1].probe_targets()[0].exploded == "192.0.2.7"
    assert state.links[2].probe_targets()[0].exploded == "10.64.0.1"
    assert state.steering.policies[1].class_name == "saas"
    assert state.steering.class_("saas") is not None
    assert state.overlays[0].peers[0].endpoints[1].via == "inet"
    again = DesiredState.from_document(3, state.to_document())
    assert again == state
    assert state.to_document()["links"][0]["bandwidth_up"] == "20000000 bps"


def test_a_site_without_them_writes_only_its_services() -> None:
    assert DesiredState(1).to_document() == {"services": []}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["links"][0].pop("gateway"),
         "links[0].gateway: a link needs its next hop (gateway) or dhcp: true"),
        (lambda d: d["links"][0].update(gateway="198.51.100.9"),
         ("links[0].gateway: 198.51.100.9 is not another address of 198.51.100.0/30, the link's "
         "subnet")),
        (lambda d: d["links"][1].update(gateway="192.0.2.1"),
         "links[1].dhcp: a link learns its address and gateway by DHCP, or is given them"),
        (lambda d: d["links"][2].update(interface="wan0"), "links[2]: 'wan0' repeats links[0]"),
        (lambda d: d["links"][0].update(interface="a-name-far-too-long"),
         "links[0].interface: 19 characters: at most 15"),
        (lambda d: d["links"][1]["probe"].update(interval_ms=50),
         "links[1].probe.interval_ms: 50 is not milliseconds from 100 to 60000"),
        (lambda d: d["links"][1]["probe"].update(fast_interval_ms=500),
         "links[1].probe.fast_interval_ms: the fast interval is longer than interval_ms"),
        (lambda d: d["links"][1]["probe"].pop("port"),
         "links[1].probe.port: udp probes need the port of an echo responder"),
        (lambda d: d["steering"]["policies"][0].update(links=["mpls", "dsl"]),
         "steering.policies[0].links[1]: 'dsl' names no link of links"),
        (lambda d: d["steering"]["policies"][0].update(sla="gold"),
         "steering.policies[0].sla: 'gold' names no profile of sla_profiles"),
        (lambda d: d["steering"]["policies"][0].update({"class": "video"}),
         "steering.policies[0].class: 'video' names no class of classes"),
        (lambda d: d["steering"]["classes"][1].update(hosts=["exa mple.com"]),
         "steering.classes[1].hosts[0]: 'exa mple.com' is not a host name, or *. and a domain"),
        (lambda d: d["steering"]["classes"][1].update(applications=["tls", "myspace"]),
         "steering.classes[1].applications[1]: 'myspace' is not an application of the catalogue"),
        (lambda d: d["steering"]["classes"].append({"name": "all"}),
         "steering.classes[2]: a class matches by at least one of protocol, ports, port_ranges"),
        (lambda d: d["steering"]["sla_profiles"].append({"name": "none"}),
         "steering.sla_profiles[1]: an SLA profile limits at least one of"),
        (lambda d: d["overlays"][0]["peers"][0].update(public_key="short"),
         "overlays[0].peers[0].public_key: 'short' is not a WireGuard public key"),
        (lambda d: d["overlays"][0]["peers"][0].update(address="10.9.0.1"),
         ("overlays[0].peers[0].address: 10.9.0.1 is not another address of the overlay's "
         "10.200.0.0/24")),
        (lambda d: d["overlays"][0]["peers"][0]["endpoints"][0].update(via="lte"),
         "overlays[0].peers[0].endpoints[0].via: 'lte' is not one of the overlay's links"),
        (lambda d: d["overlays"][0]["links"].append({"link": "dsl", "port": 51822}),
         "overlays[0].links[2].link: 'dsl' names no link of links"),
        (lambda d: d["overlays"][0].update(role="mesh"),
         "overlays[0].role: a site of a hub-and-spoke overlay is hub or spoke"),
        (lambda d: d["overlays"][0]["peers"].append(dict(d["overlays"][0]["peers"][0],
                                                         site="hub-2", address="10.200.0.3")),
         "overlays[0].peers[1]: " + repr(KEY_A) + " repeats peers[0]"),
    ],
)  # fmt: skip
def test_each_broken_rule_is_named_with_its_path(change: Any, problem: str) -> None:
    document = copy.deepcopy(SITE)
    change(document)
    found = problems_of(document)
    assert any(p.startswith(problem) for p in found), found


def test_a_second_peer_with_its_own_key_is_accepted() -> None:
    document = copy.deepcopy(SITE)
    peer = dict(document["overlays"][0]["peers"][0], site="hub-2", address="10.200.0.3",
                public_key=KEY_B)  # fmt: skip
    document["overlays"][0]["peers"].append(peer)
    assert len(DesiredState.from_document(1, document).overlays[0].peers) == 2
