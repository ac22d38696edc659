"""The overlays planned (pure): devices per (tenant, link) with the link's mark and the key
the link is told to use, peers by endpoint with the key behind it, routes by the first usable
link that neither end drains; UPDATE_OVERLAYS planned by section digest."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux.overlays import (
    OVERLAY_MARK,
    choose_routes,
    device_name,
    key_problems,
    plan_devices,
    unbuilt_links,
)
from edgewise.site.drivers.linux.wanmarks import link_mark
from edgewise.site.reconcile import ChangeOp, ChangeReason, ObservedState, plan
from edgewise.site.sdwan.sections import ObservedWan, WanFault, links_digest, overlays_digest
from tests.site.drivers.overlay.docs import a_public_key, overlay, peer

KEY_B, KEY_C = a_public_key(), a_public_key()
LINKS: list[dict[str, Any]] = [
    {"name": "mpls", "kind": "mpls", "interface": "mpls0", "address": "198.51.100.2/30",
     "gateway": "198.51.100.1"},
    {"name": "inet", "kind": "internet", "interface": "inet0", "dhcp": True},
]  # fmt: skip


def state(revision: int = 1, **extra: Any) -> DesiredState:
    peers = [
        peer("b", KEY_B, "10.99.0.2", ["192.168.2.0/24"],
             [("mpls", "198.51.100.9", 51820), ("inet", "203.0.113.9", 51821)]),
        peer("c", KEY_C, "10.99.0.3", ["192.168.3.0/24"], [("inet", "203.0.113.10", 51820)]),
    ]  # fmt: skip
    document = {"services": [], "links": LINKS,
                "overlays": [overlay("t1", "10.99.0.1/24", [("mpls", 51820), ("inet", 51821)],
                                     peers, **extra)]}  # fmt: skip
    return DesiredState.from_document(revision, document)


def test_a_device_per_tenant_and_link() -> None:
    desired = state()
    planned = plan_devices(desired.overlays, {"mpls": 1, "inet": 2}, site_prefix="ew",
                           namespace="ew-wan",
                           key_file=lambda t, _: Path(f"/k/{t}.key"))  # fmt: skip
    assert [(p.tenant, p.link) for p in planned] == [("t1", "mpls"), ("t1", "inet")]
    mpls, inet = (p.device for p in planned)
    assert mpls.name == device_name("ew", "t1", "mpls") != inet.name
    assert len(mpls.name) == 15
    assert device_name("ew", "t1", "mpls") != device_name("ex", "t1", "mpls")  # another site
    assert (mpls.fwmark, inet.fwmark) == (OVERLAY_MARK | link_mark(1), OVERLAY_MARK | link_mark(2))
    assert (mpls.listen_port, inet.listen_port) == (51820, 51821)
    assert str(mpls.address) == str(inet.address) == "10.99.0.1/24"
    assert mpls.private_key_file == inet.private_key_file == Path("/k/t1.key")
    assert mpls.table is None  # routed by choose_routes
    # peers by endpoint: b on both, c only over inet
    assert [(p.public_key, str(p.endpoint)) for p in mpls.peers] == [(KEY_B, "198.51.100.9:51820")]
    assert [p.public_key for p in inet.peers] == [KEY_B, KEY_C]
    assert [str(n) for n in inet.peers[1].allowed] == ["10.99.0.3/32", "192.168.3.0/24"]
    assert all(p.keepalive == 25 for p in inet.peers)


def test_a_link_not_built_has_no_device() -> None:
    desired = state()
    planned = plan_devices(desired.overlays, {"inet": 2}, site_prefix="ew", namespace="w",
                           key_file=lambda t, _: Path(t))  # fmt: skip
    assert [p.link for p in planned] == ["inet"]
    assert unbuilt_links(desired.overlays, {"inet": 2}) == [
        "overlay t1: link mpls is not a built WAN link"
    ]


@pytest.mark.parametrize(
    ("usable", "b_via", "c_via"),
    [
        ({"mpls", "inet"}, "mpls", "inet"),  # b's first endpoint
        ({"inet"}, "inet", "inet"),  # mpls down: b moves
        ({"mpls"}, "mpls", "inet"),  # c has only inet: kept there (unreachable, no leak)
        (set(), "mpls", "inet"),  # nothing usable: the first endpoint each
    ],
)
def test_routes_follow_the_first_usable_link(usable: set[str], b_via: str, c_via: str) -> None:
    routes = choose_routes(state().overlays, {"mpls", "inet"}, usable, "ew")
    b = [IPv4Network("10.99.0.2/32"), IPv4Network("192.168.2.0/24")]
    c = [IPv4Network("10.99.0.3/32"), IPv4Network("192.168.3.0/24")]
    expected: dict[str, list[IPv4Network]] = {}
    for via, prefixes in ((b_via, b), (c_via, c)):
        expected.setdefault(device_name("ew", "t1", via), []).extend(prefixes)
    assert routes == expected


KEY_B2, OWN_NEXT = a_public_key(), a_public_key()


def rotating(links: dict[str, dict[str, Any]], ends: dict[str, dict[str, Any]]) -> DesiredState:
    """`state()` with extra fields on its links and on b's endpoints, by link."""
    entry: dict[str, Any] = overlay("t1", "10.99.0.1/24", [("mpls", 51820), ("inet", 51821)], [
        peer("b", KEY_B, "10.99.0.2", ["192.168.2.0/24"],
             [("mpls", "198.51.100.9", 51820), ("inet", "203.0.113.9", 51821)]),
        peer("c", KEY_C, "10.99.0.3", ["192.168.3.0/24"], [("inet", "203.0.113.10", 51820)]),
    ])  # fmt: skip
    for link in entry["links"]:
        link.update(links.get(link["link"], {}))
    for end in entry["peers"][0]["endpoints"]:
        end.update(ends.get(end["via"], {}))
    return DesiredState.from_document(1, {"services": [], "links": LINKS, "overlays": [entry]})


def test_each_device_uses_its_links_key_and_each_peer_the_key_behind_its_endpoint() -> None:
    desired = rotating({"mpls": {"public_key": OWN_NEXT}}, {"inet": {"public_key": KEY_B2}})
    planned = plan_devices(desired.overlays, {"mpls": 1, "inet": 2}, site_prefix="ew",
                           namespace="w", key_file=lambda t, k: Path(f"/k/{t}/{k}"))  # fmt: skip
    mpls, inet = (p.device for p in planned)
    assert mpls.private_key_file == Path(f"/k/t1/{OWN_NEXT}")
    assert inet.private_key_file == Path("/k/t1/None")  # the current key
    assert [p.public_key for p in mpls.peers] == [KEY_B]
    assert [p.public_key for p in inet.peers] == [KEY_B2, KEY_C]  # b mid-rotation over inet
    held = {("t1", OWN_NEXT)}
    assert key_problems(desired.overlays, lambda t, k: (t, k) in held) == []
    assert key_problems(desired.overlays, lambda t, k: False) == [
        (
            f"overlay t1: link mpls is to use key {OWN_NEXT}, which this site does not hold "
            "(neither its key nor its next); the device keeps its current key"
        )
    ]


@pytest.mark.parametrize(
    ("links", "ends", "usable", "b_via"),
    [
        ({}, {}, {"mpls", "inet"}, "mpls"),
        ({"mpls": {"draining": True}}, {}, {"mpls", "inet"}, "inet"),  # this end drains
        ({}, {"mpls": {"draining": True}}, {"mpls", "inet"}, "inet"),  # the far end drains
        ({}, {"inet": {"draining": True}}, {"mpls", "inet"}, "mpls"),
        ({"mpls": {"draining": True}}, {}, {"mpls"}, "mpls"),  # inet down: drained beats none
        ({"mpls": {"draining": True}}, {"inet": {"draining": True}}, {"mpls", "inet"}, "mpls"),
    ],
)
def test_routes_keep_off_drained_tunnels(
    links: dict[str, dict[str, Any]], ends: dict[str, dict[str, Any]], usable: set[str], b_via: str
) -> None:
    routes = choose_routes(rotating(links, ends).overlays, {"mpls", "inet"}, usable, "ew")
    b = [IPv4Network("10.99.0.2/32"), IPv4Network("192.168.2.0/24")]
    assert [name for name, prefixes in routes.items() if b[0] in prefixes] == [
        device_name("ew", "t1", b_via)
    ]


def test_update_overlays_by_digest() -> None:
    desired = state()
    digest = overlays_digest(desired)
    wan = ObservedWan(links_digest=links_digest(desired))
    built = replace(wan, overlays_digest=digest)

    def overlay_steps(seen: ObservedWan, wanted: DesiredState = desired) -> list[Any]:
        changes = plan(wanted, ObservedState(wan=seen))
        return [(c.op, c.reason) for c in changes if c.op is ChangeOp.UPDATE_OVERLAYS]

    assert overlay_steps(wan) == [(ChangeOp.UPDATE_OVERLAYS, ChangeReason.MISSING)]
    assert overlay_steps(built) == []
    assert overlay_steps(built, state(key_rotation_h=24)) == [
        (ChangeOp.UPDATE_OVERLAYS, ChangeReason.CONFIG_CHANGED)
    ]
    broken = replace(built, faults=frozenset({WanFault.OVERLAYS_BROKEN}))
    assert overlay_steps(broken) == [(ChangeOp.UPDATE_OVERLAYS, ChangeReason.UNHEALTHY)]
    gone = DesiredState.from_document(2, {"services": [], "links": LINKS})
    assert overlay_steps(built, gone) == [(ChangeOp.UPDATE_OVERLAYS, ChangeReason.UNWANTED)]
    # the links planned again: the overlays after them (the links' pass resets rp_filter)
    links_broken = replace(built, faults=frozenset({WanFault.LINKS_BROKEN}))
    changes = plan(desired, ObservedState(wan=links_broken))
    assert [c.op for c in changes][:2] == [ChangeOp.UPDATE_LINKS, ChangeOp.UPDATE_OVERLAYS]
