"""The linux driver's pure parts: names, address plan, chain routes, rulesets, config checks."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest

from edgewise.model.desired import MAX_CHAIN
from edgewise.model.functions import VnfFunction, read_config
from edgewise.site.drivers.linux.layout import (
    WAN_HOP,
    LinkLabel,
    Route,
    SiteNetwork,
    VnfLabel,
    chain_links,
    chain_routes,
    decode_label,
    pick_slot,
    service_label,
)
from edgewise.site.drivers.linux.rulesets import read_marker, table_batch

SITE = SiteNetwork("ew", "lan", "wan")


def test_slots_are_deterministic_and_probe_past_used_ones() -> None:
    first = pick_slot("svc-1", set(), SITE.slots)

    assert pick_slot("svc-1", set(), SITE.slots) == first
    assert pick_slot("svc-1", {first}, SITE.slots) == (first + 1) % SITE.slots
    with pytest.raises(ValueError, match="full"):
        pick_slot("svc-1", {0, 1}, 2)


def test_services_get_disjoint_lan_subnets_and_transit_links() -> None:
    lans = [SITE.lan_subnet(slot) for slot in range(SITE.slots)]
    links = [SITE.transit_link(s, k) for s in (0, 1, SITE.slots - 1) for k in range(1, 9)]

    assert SITE.slots == 4096
    assert len(set(lans)) == len(lans)
    assert all(lan.subnet_of(SITE.lan_pool) for lan in lans)
    assert len(set(links)) == len(links)
    assert all(link.subnet_of(SITE.transit_pool) for link in links)
    assert str(SITE.lan_gateway(1)) == "172.16.1.1/24"
    assert str(SITE.transit_link(1, 2)) == "10.255.0.18/31"


def test_names_carry_the_site_prefix_and_fit_the_kernel_limits() -> None:
    left, right = SiteNetwork("abcdef", "lan", "wan").link_ends("0123abcd")

    assert (left, right) == ("abcdef0123abcdl", "abcdef0123abcdr")
    assert max(len(left), len(right)) <= 15
    assert SITE.vnf_namespace(3, "fw") == "ew-0003-fw"
    assert SITE.slot_of_namespace("ew-0003-fw") == 3
    assert SITE.slot_of_namespace("ew-lan") is None
    assert SITE.vnf_namespace(3, "a/b").startswith("ew-0003-x")


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"prefix": "Bad"}, "prefix"),
        ({"prefix": "toolong7"}, "prefix"),
        ({"lan_pool": IPv4Network("10.255.0.0/16")}, "overlaps"),
        ({"transit_pool": IPv4Network("10.0.0.0/29")}, "smaller"),
    ],
)
def test_a_site_network_refuses_bad_settings(kwargs: dict[str, object], problem: str) -> None:
    settings: dict[str, object] = {"prefix": "ew", "lan_netns": "l", "wan_netns": "w", **kwargs}
    with pytest.raises(ValueError, match=problem):
        SiteNetwork(**settings)  # type: ignore[arg-type]


def test_labels_round_trip_and_foreign_aliases_are_ignored() -> None:
    link = LinkLabel("svc 1", 2, "fw", WAN_HOP)
    vnf = VnfLabel("svc-1", "fw", "firewall")

    assert decode_label(link.encode()) == link
    assert decode_label(vnf.encode()) == vnf
    assert decode_label(service_label("svc-1")) == "svc-1"
    assert decode_label("uplink to the ISP") is None
    assert decode_label(None) is None
    assert [(k.index, k.left, k.right) for k in chain_links("s", ["fw", "nat"])] == [
        (0, "@lan", "fw"),
        (1, "fw", "nat"),
        (2, "nat", "@wan"),
    ]


def route(destination: str, gateway: str) -> Route:
    return Route(IPv4Network(destination), IPv4Address(gateway))


def test_chain_routes_send_forward_by_default_and_back_what_lies_left() -> None:
    routes = chain_routes(SITE, 0, ["fw", "router", "nat"], {3: None})

    assert routes["fw"] == [route("0.0.0.0/0", "10.255.0.1")]
    assert routes["router"] == [
        route("0.0.0.0/0", "10.255.0.3"),
        route("172.16.0.0/24", "10.255.0.0"),
    ]
    assert routes["nat"] == [
        route("0.0.0.0/0", "10.255.0.5"),
        route("172.16.0.0/24", "10.255.0.2"),
        route("10.255.0.0/31", "10.255.0.2"),
    ]
    assert routes[WAN_HOP] == []  # the NAT's WAN address is on the WAN side's own link


def test_without_nat_the_wan_side_routes_the_lan_and_with_snat_the_fixed_address() -> None:
    plain = chain_routes(SITE, 0, ["fw"], {})
    fixed = chain_routes(SITE, 0, ["nat", "fw"], {1: IPv4Address("198.51.100.7")})

    assert plain[WAN_HOP] == [route("172.16.0.0/24", "10.255.0.0")]
    assert fixed[WAN_HOP] == [
        route("10.255.0.0/31", "10.255.0.2"),
        route("198.51.100.7/32", "10.255.0.2"),
    ]
    assert route("198.51.100.7/32", "10.255.0.0") in fixed["fw"]


def test_a_ruleset_replaces_its_table_in_one_batch_and_carries_its_digest() -> None:
    config = read_config(VnfFunction.FIREWALL, {"rules": [{"protocol": "tcp", "port": 80}]})
    batch = table_batch("firewall", "d" * 64, config)
    rules = [item["add"]["rule"] for item in batch if "rule" in item.get("add", {})]

    assert [next(iter(op)) for op in batch[:3]] == ["add", "delete", "add"]
    assert read_marker([{"rule": r} for r in rules]) == ("firewall", "d" * 64)
    assert [r.get("comment") for r in rules[1:]] == [
        None, None, "rule-0", "default-outbound", "default-inbound"
    ]  # fmt: skip
    assert MAX_CHAIN == 8
