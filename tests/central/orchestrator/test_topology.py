"""The pure composition of overlays' entries and of a site's steering, by tables of cases."""

from __future__ import annotations

import base64
from ipaddress import IPv4Address, IPv4Network

import pytest

from edgewise.central.orchestrator.steering_compose import (
    Bound,
    Catalogue,
    Policy,
    compose_steering,
)
from edgewise.central.orchestrator.topology import Member, Topology, compose_overlays, endpoints
from edgewise.model.fields import read
from edgewise.model.links import WanLink
from edgewise.model.steering import AppClass, SlaProfile


def key(n: int) -> str:
    return base64.b64encode(bytes([n]) * 32).decode()


def link(name: str, kind: str, address: str | None = None) -> WanLink:
    body: dict[str, object] = {"name": name, "kind": kind, "interface": f"if-{name}"}
    if address is None:
        body["dhcp"] = True
    else:
        body |= {"address": address, "gateway": address.rsplit(".", 1)[0] + ".1"}
    return read(WanLink, body)


def member(site: str, n: int, *links: WanLink, keyed: bool = True) -> Member:
    reached = {k.name: k.address.ip for k in links if k.address is not None}
    return Member(site, IPv4Address(f"10.200.0.{n}"), links, reached, key(n) if keyed else None)


MPLS = link("mpls", "mpls", "192.0.2.2/24")
INET = link("inet", "internet", "198.51.100.2/24")
LTE = link("lte", "lte", "203.0.113.2/24")
DHCP = link("dhcp", "internet")


def topology(kind: str, *members: Member, hubs: tuple[str, ...] = ()) -> Topology:
    return Topology("acme", kind, IPv4Network("10.200.0.0/16"), 51820, 168, hubs, members)


def test_hub_and_spoke_peers() -> None:
    hub = member("hub", 1, MPLS, INET)
    a = member("a", 2, INET)
    b = member("b", 3, MPLS)
    waiting = member("c", 4, INET, keyed=False)
    bare = member("d", 5)
    entries = compose_overlays(topology("hub-and-spoke", hub, a, b, waiting, bare, hubs=("hub",)))
    assert set(entries) == {"hub", "a", "b", "c"}  # d rides no link: no entry
    assert [p.site for p in entries["hub"].peers] == ["a", "b"]  # c: waiting for its key
    assert entries["hub"].role == "hub"
    assert [p.site for p in entries["a"].peers] == ["hub"]
    assert entries["a"].peers[0].prefixes == (IPv4Network("10.200.0.0/16"),)  # via the hub
    assert entries["hub"].peers[0].prefixes == (IPv4Network("10.200.0.2/32"),)
    assert [p.site for p in entries["c"].peers] == ["hub"]  # it gets its peers meanwhile
    assert [(k.link, k.port) for k in entries["hub"].links] == [("mpls", 51820), ("inet", 51821)]
    assert str(entries["b"].address) == "10.200.0.3/16"


def test_full_mesh_peers_every_other_member() -> None:
    members = [member(f"s{n}", n, INET) for n in range(1, 5)]
    entries = compose_overlays(topology("full-mesh", *members))
    assert [p.site for p in entries["s1"].peers] == ["s2", "s3", "s4"]
    assert all(e.role == "mesh" for e in entries.values())


@pytest.mark.parametrize(
    ("local", "peer", "expected"),
    [
        # same kind first, then the peer's links left over in order, then any again
        (
            (MPLS, INET),
            (INET, MPLS),
            [("mpls", "192.0.2.2", 51821), ("inet", "198.51.100.2", 51820)],
        ),
        ((MPLS, LTE), (INET,), [("mpls", "198.51.100.2", 51820), ("lte", "198.51.100.2", 51820)]),
        ((LTE,), (MPLS, LTE), [("lte", "203.0.113.2", 51821)]),
        ((INET, LTE), (MPLS, DHCP), [("inet", "192.0.2.2", 51820), ("lte", "192.0.2.2", 51820)]),
        ((INET,), (DHCP,), []),  # the peer's DHCP link has not reported its address
    ],
)
def test_endpoints_pair_links(
    local: tuple[WanLink, ...], peer: tuple[WanLink, ...], expected: list[tuple[str, str, int]]
) -> None:
    topo = topology("full-mesh")
    found = endpoints(topo, member("l", 1, *local), member("p", 2, *peer))
    assert [(e.via, str(e.address), e.port) for e in found] == expected


def test_a_reported_dhcp_address_is_an_endpoint() -> None:
    peer = Member(
        "p", IPv4Address("10.200.0.2"), (DHCP,), {"dhcp": IPv4Address("100.64.0.9")}, key(2)
    )
    found = endpoints(topology("full-mesh"), member("l", 1, INET), peer)
    assert [(e.via, str(e.address)) for e in found] == [("inet", "100.64.0.9")]


CATALOGUE = Catalogue(
    {
        "voice": read(AppClass, {"name": "voice", "dscp": 46}),
        "bulk": read(AppClass, {"name": "bulk", "dscp": 8}),
    },
    {
        "rt": read(SlaProfile, {"name": "rt", "max_latency_ms": 100}),
        "loose": read(SlaProfile, {"name": "loose", "max_loss_percent": 10}),
    },
)


@pytest.mark.parametrize(
    ("policies", "bounds", "expected", "left_out"),
    [
        (
            [Policy("fleet", "voice", ("mpls", "inet"), "rt")],
            {},
            [("voice", ("mpls", "inet"), "rt", None)],
            [],
        ),
        (
            [Policy("fleet", "voice", ("mpls",), "rt"), Policy("site", "voice", ("lte",))],
            {},
            [("voice", ("lte",), None, None)],
            [],
        ),
        ([Policy("fleet", "voice", ("x", "inet"))], {}, [("voice", ("inet",), None, None)], []),
        ([Policy("fleet", "voice", ("x",))], {}, [], ["fleet voice"]),
        (
            [Policy("tenant", "bulk", ("inet", "lte")), Policy("fleet", "bulk", ("lte",), "loose")],
            {"bulk": Bound(("lte",))},
            [("bulk", ("lte",), "loose", "t"), ("bulk", ("lte",), "loose", None)],
            [],
        ),
        (
            [Policy("tenant", "bulk", ("inet",), "rt"), Policy("fleet", "bulk", ("lte",), "loose")],
            {"bulk": Bound(("inet",), may_change_sla=True)},
            [("bulk", ("inet",), "rt", "t"), ("bulk", ("lte",), "loose", None)],
            [],
        ),
        ([Policy("tenant", "bulk", ("inet",))], {}, [], ["tenant bulk"]),
        ([Policy("fleet", "gone", ("inet",))], {}, [], ["fleet gone"]),
    ],
)
def test_compose_steering(
    policies: list[Policy],
    bounds: dict[str, Bound],
    expected: list[tuple[str, tuple[str, ...], str | None, str | None]],
    left_out: list[str],
) -> None:
    found = compose_steering(
        tenant_id="t",
        links=["mpls", "inet", "lte"],
        policies=policies,
        bounds=bounds,
        catalogue=CATALOGUE,
    )
    got = (
        []
        if found.steering is None
        else [(p.class_name, p.links, p.sla, p.tenant) for p in found.steering.policies]
    )
    assert got == expected
    assert [f"{x.scope} {x.class_name}" for x in found.left_out] == left_out
    if found.steering is not None:
        assert not list(found.steering.problems())
