"""The WAN links and steering over the fake kernel: tables, rules, routes, NAT and the steering
table built from the desired state; carrier loss moving a class by one map element change;
drift (a deleted rule or route, a flushed table, an element changed) observed and mended."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

import pytest

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.fakekernel import FakeKernel
from edgewise.site.drivers.linux.kernel import MAIN_TABLE, KernelRule
from edgewise.site.drivers.linux.steering import STEER_TABLE, WAITS_FOR_DPI, read_elements
from edgewise.site.drivers.linux.wanmarks import link_mark
from edgewise.site.drivers.linux.wanplan import FAMILY, LINKS_TABLE
from edgewise.site.reconcile import ChangeOp, ChangeReason, plan
from edgewise.site.sdwan.health import LinkHealth, LinkState
from edgewise.site.sdwan.sections import WanFault
from tests.site.drivers.linux.conftest import SITE
from tests.site.drivers.linux.kit import reconcile

pytestmark = pytest.mark.anyio

LINKS: list[dict[str, Any]] = [
    {"name": "mpls", "kind": "mpls", "interface": "mpls0", "address": "198.51.100.2/30",
     "gateway": "198.51.100.1"},
    {"name": "inet", "kind": "internet", "interface": "inet0", "dhcp": True},
]  # fmt: skip
STEERING: dict[str, Any] = {
    "classes": [
        {"name": "voice", "protocol": "udp", "ports": [5060, 10000]},
        {"name": "saas", "hosts": ["*.example.com"]},
        {"name": "bulk", "protocol": "tcp", "ports": [873]},
    ],
    "policies": [
        {"class": "voice", "links": ["mpls", "inet"]},
        {"class": "saas", "links": ["inet"]},
        {"class": "bulk", "links": ["inet", "mpls"], "spread": True, "tenant": "t1"},
    ],
    "default_links": ["inet", "mpls"],
    "hold_s": 30,
}
VOICE, BULK = 0x10, 0x30  # the keys of policies 0 and 2


def site(**steering: Any) -> DesiredState:
    document: dict[str, Any] = {"services": [], "links": LINKS}
    document["steering"] = {**STEERING, **steering}
    return DesiredState.from_document(1, document)


@pytest.fixture
def uplinks(kernel: FakeKernel) -> FakeKernel:
    return add_uplinks(kernel)


def add_uplinks(kernel: FakeKernel) -> FakeKernel:
    """mpls0 and inet0 in the WAN side, each a veth to an ISP namespace; inet0's address and
    default route as a DHCP client would set them."""
    for name, isp in (("mpls0", "isp-m"), ("inet0", "isp-i")):
        space = kernel.add_namespace(isp)
        with kernel.namespace_fd(isp) as fd, kernel.open_netlink(SITE.wan_netns) as nl:
            nl.add_veth(name, "eth0", fd)
            nl.set_link(nl.required(name).index, state="up")
        peer = space.find("eth0")
        assert peer is not None
        peer.up = True
    with kernel.open_netlink(SITE.wan_netns) as nl:
        inet = nl.required("inet0").index
        nl.add_address(inet, IPv4Interface("203.0.113.2/24"))
        nl.replace_route(IPv4Network("0.0.0.0/0"), 16, gateway=IPv4Address("203.0.113.1"))
    return kernel


def wan_routes(kernel: FakeKernel, table: int) -> list[tuple[str, str, bool]]:
    space = kernel.space(SITE.wan_netns)
    return sorted((str(r.destination), str(r.gateway or ""), r.unreachable)
                  for r in space.routes if r.table == table)  # fmt: skip


def elements(kernel: FakeKernel) -> dict[int, int]:
    with kernel.open_netlink(SITE.wan_netns):
        items = kernel.open_nftables(SITE.wan_netns).list_table(FAMILY, STEER_TABLE)
    return read_elements(items or [])


async def test_links_and_steering_are_built(uplinks: FakeKernel, driver: LinuxDriver) -> None:
    results = await reconcile(driver, site())
    assert [(r.change.op, r.changed, r.failed) for r in results] == [
        (ChangeOp.UPDATE_LINKS, True, False),
        (ChangeOp.UPDATE_STEERING, True, False),
    ]
    mpls, inet = link_mark(1), link_mark(2)
    space = uplinks.space(SITE.wan_netns)
    assert sorted(space.rules, key=lambda r: r.priority) == [
        KernelRule(10_001, mpls, 0xFFFF, mpls, 190),
        KernelRule(10_002, inet, 0xFFFF, inet, 190),
    ]
    assert wan_routes(uplinks, mpls) == [("0.0.0.0/0", "", True),
                                         ("0.0.0.0/0", "198.51.100.1", False)]  # fmt: skip
    assert wan_routes(uplinks, inet) == [("0.0.0.0/0", "", True),
                                         ("0.0.0.0/0", "203.0.113.1", False)]  # fmt: skip
    iface = space.find("mpls0")
    assert iface is not None
    assert IPv4Interface("198.51.100.2/30") in iface.addresses
    main = [r for r in space.routes if r.table == MAIN_TABLE and r.proto == 190]
    assert [str(r.gateway) for r in main] == ["203.0.113.1"]  # default traffic: inet first
    assert uplinks.table(SITE.wan_netns) is None  # (the VNFs' table name is not used here)
    assert (FAMILY, LINKS_TABLE) in space.tables
    # voice on mpls; bulk spread over inet and mpls by bucket; default on inet; saas (layer 7)
    # on inet, and its flows named late (0x28) where default traffic goes
    assert elements(uplinks) == {
        0: inet,
        VOICE: mpls,
        0x20: inet,
        0x28: inet,
        **{BULK + b: (inet, mpls)[b % 2] for b in range(8)},
    }
    seen = await driver.observe()
    assert plan(site(), seen) == []
    assert WAITS_FOR_DPI not in seen.wan.notes  # the classifier runs
    assert seen.wan.counters["dpi"]["running"] is True
    assert seen.wan.counters["links"]["inet"]["gateway"] == "203.0.113.1"
    assert seen.wan.counters["routes"]["voice"] == ["mpls"]


async def test_carrier_loss_moves_the_class_and_back_after_the_hold(
    uplinks: FakeKernel, driver: LinuxDriver
) -> None:
    await reconcile(driver, site(hold_s=0))
    mpls, inet = link_mark(1), link_mark(2)
    space = uplinks.space(SITE.wan_netns)
    before = len(space.transactions)
    uplinks.set_carrier(SITE.wan_netns, "mpls0", carrier=False)
    # ONE transaction, of map elements only (the ruleset stays)
    assert len(space.transactions) == before + 1
    assert {next(iter(c.values()))["element"]["name"] for c in space.transactions[-1]} == {"route"}
    assert elements(uplinks)[VOICE] == inet
    assert {elements(uplinks)[BULK + b] for b in range(8)} == {inet}
    seen = await driver.observe()
    assert seen.wan.counters["routes"]["voice"] == ["inet"]
    assert seen.wan.counters["last_move_us"] > 0
    assert plan(site(hold_s=0), seen) == []  # a decision is no drift
    # the flows of what moved start afresh (their NAT): voice, and bulk (spread)
    assert space.conntrack_deleted == [(0x10, 0xFFF0), (0x30, 0xFFF0)]
    uplinks.set_carrier(SITE.wan_netns, "mpls0", carrier=True)
    assert elements(uplinks)[VOICE] == mpls


async def test_probes_degrade_a_link(uplinks: FakeKernel, driver: LinuxDriver) -> None:
    await reconcile(driver, site())
    moved = await driver.set_link_health("mpls", LinkHealth(LinkState.DEGRADED))
    assert moved
    assert elements(uplinks)[VOICE] == link_mark(2)


async def test_drift_is_mended(uplinks: FakeKernel, driver: LinuxDriver) -> None:
    state = site()
    await reconcile(driver, state)
    space = uplinks.space(SITE.wan_netns)
    space.rules.pop()
    space.routes = [r for r in space.routes if not (r.table == link_mark(1) and r.unreachable)]
    repair = plan(state, await driver.observe())
    assert [(c.op, c.reason) for c in repair] == [
        (ChangeOp.UPDATE_LINKS, ChangeReason.UNHEALTHY),
        (ChangeOp.UPDATE_STEERING, ChangeReason.UNHEALTHY),
    ]
    await reconcile(driver, state)
    assert len(space.rules) == 2
    assert len(wan_routes(uplinks, link_mark(1))) == 2
    uplinks.flush_ruleset(SITE.wan_netns)
    seen = await driver.observe()
    assert WanFault.STEERING_BROKEN in seen.wan.faults
    assert [c.op for c in plan(state, seen)] == [ChangeOp.UPDATE_LINKS, ChangeOp.UPDATE_STEERING]
    await reconcile(driver, state)
    assert plan(state, await driver.observe()) == []
    table = space.tables[(FAMILY, STEER_TABLE)]
    next(m for m in table.maps if m["name"] == "route")["elem"][0][1] = 1  # someone's edit
    assert [c.reason for c in plan(state, await driver.observe())] == [ChangeReason.UNHEALTHY]


async def test_a_missing_interface_is_named(uplinks: FakeKernel, driver: LinuxDriver) -> None:
    state = DesiredState.from_document(1, {"services": [], "links": [
        {**LINKS[0], "interface": "nowhere0"}]})  # fmt: skip
    results = await reconcile(driver, state)
    assert results[0].error == "link mpls: interface nowhere0 is not in the WAN namespace ew-wan"
    assert results[1].skipped


async def test_links_removed(uplinks: FakeKernel, driver: LinuxDriver) -> None:
    await reconcile(driver, site())
    empty = DesiredState(2)
    await reconcile(driver, empty)
    space = uplinks.space(SITE.wan_netns)
    assert space.rules == []
    assert [r for r in space.routes if r.proto == 190] == []
    assert space.tables == {}
    assert all(link.alias is None for link in space.links.values())
    assert plan(empty, await driver.observe()) == []


async def test_a_tenant_policy_matches_its_services_sources(
    uplinks: FakeKernel, driver: LinuxDriver
) -> None:
    service = {"id": "s1", "name": "s1", "tenant": "t1", "chain": ["fw"],
               "vnfs": [{"name": "fw", "function": "firewall", "config": {}}]}  # fmt: skip
    document: dict[str, Any] = {"services": [service], "links": LINKS, "steering": STEERING}
    state = DesiredState.from_document(1, document)
    await reconcile(driver, state)
    slot = (await driver.view("s1")).services["s1"].slot
    table = uplinks.space(SITE.wan_netns).tables[(FAMILY, STEER_TABLE)]
    bulk = next(r for r in table.rules if r.get("comment") == "bulk@t1")
    sources = bulk["expr"][0]["match"]
    assert sources["left"] == {"payload": {"protocol": "ip", "field": "saddr"}}
    assert sources["right"]["set"] == [
        {"prefix": {"addr": str(n.network_address), "len": n.prefixlen}}
        for n in (SITE.lan_subnet(slot), SITE.transit_block(slot))
    ]
    voice = next(r for r in table.rules if r.get("comment") == "voice")
    assert voice["expr"][0]["match"]["left"] == {"meta": {"key": "l4proto"}}  # site-wide
