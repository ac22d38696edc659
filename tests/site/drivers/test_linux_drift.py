"""The drift watch's pure parts: netlink and inotify records, and when they mean drift."""

from __future__ import annotations

import struct
from ipaddress import IPv4Address

import pytest

from edgewise.site.drivers.linux import rtcodec as rt
from edgewise.site.drivers.linux.drift import (
    IFF_LOWER_UP,
    IFF_UP,
    INOTIFY_EVENT,
    NFNL_SUBSYS_NFTABLES,
    NFT_DELSETELEM,
    NFT_NEWGEN,
    NFT_NEWTABLE,
    RTM_DELLINK,
    RTM_NEWLINK,
    Expected,
    LinkStates,
    NftTransactions,
    inotify_records,
)

UP = IFF_UP | IFF_LOWER_UP
DELTABLE, DELRULE, NEWCHAIN = 2, 8, 3


def link(index: int, name: str, flags: int) -> bytes:
    return struct.pack("=BxHiII", 0, 0, index, flags, 0) + rt.attr_str(rt.IFLA_IFNAME, name)


def nft(message: int, table: str | None = "edgewise") -> tuple[int, bytes]:
    body = b"\x01\x00\x00\x00" + (rt.attr_str(1, table) if table is not None else b"")
    return NFNL_SUBSYS_NFTABLES << 8 | message, body


def feed(states: LinkStates, events: list[tuple[int, bytes]], expected: Expected) -> list[str]:
    found = [states.feed(kind, payload, expected) for kind, payload in events]
    return [reason for reason in found if reason is not None]


@pytest.mark.parametrize(
    ("events", "drift"),
    [
        pytest.param([(RTM_NEWLINK, link(5, "ewab12cd34l", 0))], [], id="a new link"),
        pytest.param(
            [(RTM_NEWLINK, link(5, "ewab12cd34l", 0)), (RTM_NEWLINK, link(5, "ewab12cd34l", UP))],
            [],
            id="a new link comes up",
        ),
        pytest.param(
            [(RTM_NEWLINK, link(5, "ewab12cd34l", UP)), (RTM_NEWLINK, link(5, "ewab12cd34l", 1))],
            ["link ewab12cd34l down in ew-0001-fw"],
            id="carrier lost",
        ),
        pytest.param(
            [(RTM_NEWLINK, link(5, "ewab12cd34l", UP)), (RTM_DELLINK, link(5, "ewab12cd34l", 0))],
            ["link ewab12cd34l gone in ew-0001-fw"],
            id="deleted",
        ),
        pytest.param(
            [(RTM_NEWLINK, link(1, "lo", UP)), (RTM_NEWLINK, link(1, "lo", 0))],
            [],
            id="not the site's",
        ),
        pytest.param(
            [(RTM_NEWLINK, link(5, "ewab12cd34l", UP)), (RTM_NEWLINK, link(5, "ewab12cd34l", UP))],
            [],
            id="still up",
        ),
    ],
)
def test_a_vnf_link_drifts_when_it_was_up_and_goes_down_or_away(
    events: list[tuple[int, bytes]], drift: list[str]
) -> None:
    assert feed(LinkStates("ew-0001-fw", "ew"), events, Expected("ew")) == drift


def test_in_the_lan_and_wan_sides_only_a_link_going_away_counts() -> None:
    states = LinkStates("ew-lan", "ew", vnf=False)
    up, down = link(7, "ewb0001", UP), link(7, "ewb0001", 1)  # a bridge losing its carrier

    assert feed(states, [(RTM_NEWLINK, up), (RTM_NEWLINK, down)], Expected("ew")) == []
    assert feed(states, [(RTM_NEWLINK, up), (RTM_DELLINK, up)], Expected("ew")) == [
        "link ewb0001 gone in ew-lan"
    ]


def test_links_the_driver_deletes_and_their_veth_peers_are_expected_to_go() -> None:
    expected = Expected("ew")
    expected.add(["ewab12cd34l", "ewb0001"], now=100.0)
    states = LinkStates("ew-lan", "ew")
    events = [
        (RTM_NEWLINK, link(5, "ewab12cd34r", UP)),  # the peer of an expected end
        (RTM_NEWLINK, link(5, "ewab12cd34r", 1)),
        (RTM_DELLINK, link(5, "ewab12cd34r", 0)),
        (RTM_NEWLINK, link(6, "ewb0001", UP)),
        (RTM_DELLINK, link(6, "ewb0001", 0)),
    ]

    assert feed(states, events, expected) == []
    assert "ewb0001" not in expected  # gone: a bridge made again with that name counts again
    expected.expire(now=100.0 + 11)
    assert expected.until == {}


@pytest.mark.parametrize(
    ("messages", "drift"),
    [
        pytest.param(
            [DELRULE, DELTABLE, NFT_NEWTABLE, NEWCHAIN, NFT_NEWGEN],
            False,
            id="the driver's replacement: delete and add in one transaction",
        ),
        pytest.param([DELRULE, DELTABLE, NFT_NEWGEN], True, id="flush ruleset"),
        pytest.param([DELRULE, NFT_NEWGEN], True, id="flush table"),
        pytest.param([NFT_NEWTABLE, NEWCHAIN, NFT_NEWGEN], False, id="built"),
    ],
)
def test_a_ruleset_drifts_when_a_transaction_deletes_from_the_table(
    messages: list[int], drift: bool
) -> None:
    watched = NftTransactions("ew-0001-fw")
    found = [watched.feed(*nft(m, None if m == NFT_NEWGEN else "edgewise")) for m in messages]

    assert [r for r in found if r] == (["ruleset changed in ew-0001-fw"] if drift else [])


def test_another_table_is_none_of_the_driver_business() -> None:
    watched = NftTransactions("ew-0001-fw")

    assert watched.feed(*nft(DELTABLE, "other")) is None
    assert watched.feed(*nft(NFT_NEWGEN, None)) is None


def test_the_wan_side_tables_drift_but_not_by_a_steering_move() -> None:
    watched = NftTransactions(
        "ew-wan", tables=frozenset({"ew_links", "ew_steer"}), ignored=frozenset({NFT_DELSETELEM})
    )

    assert watched.feed(*nft(NFT_DELSETELEM, "ew_steer")) is None  # the steering's own move
    assert watched.feed(*nft(NFT_NEWGEN, None)) is None
    assert watched.feed(*nft(DELRULE, "ew_links")) is None
    assert watched.feed(*nft(NFT_NEWGEN, None)) == "ruleset changed in ew-wan"


def test_inotify_records_are_read_with_their_names() -> None:
    name = b"ew-0001-fw\0\0"
    data = INOTIFY_EVENT.pack(1, 0x200, 0, len(name)) + name + INOTIFY_EVENT.pack(1, 0x4000, 0, 0)

    assert list(inotify_records(data)) == [(0x200, "ew-0001-fw"), (0x4000, "")]


def test_links_addresses_and_routes_are_packed_and_read_back() -> None:
    payload = (
        rt.ifinfo(9, up=True)
        + rt.attr_str(rt.IFLA_IFNAME, "ewab12cd34l")
        + rt.attr_str(rt.IFLA_IFALIAS, '["ew1", "vnf"]')
        + rt.attr_u32(rt.IFLA_GROUP, 225)
        + rt.attr_u32(rt.IFLA_MASTER, 4)
        + rt.attr(rt.IFLA_OPERSTATE, bytes([rt.IF_OPER_UP]))
        + rt.attr(rt.IFLA_ADDRESS, rt.mac_bytes("02:aa:bb:cc:dd:0e"))
        + rt.veth_info("peer", 3)
    )
    seen = rt.decode_link(payload)

    assert (seen.index, seen.name, seen.kind, seen.alias) == (
        9,
        "ewab12cd34l",
        "veth",
        '["ew1", "vnf"]',
    )
    assert (seen.up, seen.carrier, seen.group, seen.master) == (True, True, 225, 4)
    assert seen.mac == "02:aa:bb:cc:dd:0e"
    route = rt.rtmsg(24, 254, 186, 0, 1) + rt.attr(rt.RTA_DST, IPv4Address("10.1.2.0").packed)
    route += rt.attr(rt.RTA_GATEWAY, IPv4Address("10.0.0.1").packed) + rt.attr_u32(rt.RTA_OIF, 7)
    assert rt.decode_route(route) == rt.RouteInfo(
        24, 254, 186, IPv4Address("10.1.2.0"), IPv4Address("10.0.0.1"), 7
    )
    address = rt.ifaddr(7, 31) + rt.attr(rt.IFA_ADDRESS, IPv4Address("10.0.0.1").packed)
    assert rt.decode_address(address) == (7, 31, IPv4Address("10.0.0.1"))
    framed = rt.message(16, 2, 5, payload) + rt.message(3, 2, 5, b"")
    assert [(k, s) for k, _, s, _ in rt.messages(framed)] == [(16, 5), (3, 5)]
