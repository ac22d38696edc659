"""Each overlay peer's tunnel up or down from WireGuard's handshakes (pure, by table): up while
one of its tunnels had a handshake within 180 s, down past it or when none came within the
first grace, not judged within that grace; peers no longer tunnelled to are forgotten."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewise.site.drivers.linux.overlaypeers import (
    FIRST_HANDSHAKE_GRACE_S,
    REJECT_AFTER_S,
    PeerKey,
    peer_states,
)
from edgewise.site.drivers.linux.overlays import PlannedDevice, plan_devices
from edgewise.site.drivers.linux.wireguard.outcomes import DeviceState
from edgewise.site.drivers.linux.wireguard.uapi import PeerDump
from tests.site.drivers.overlay.test_overlay_plan import KEY_B, KEY_C, state

NOW = 1_000_000.0


def planned() -> list[PlannedDevice]:
    return plan_devices(state().overlays, {"mpls": 1, "inet": 2}, site_prefix="ew",
                        namespace="ew-wan", key_file=lambda t, _: Path(f"/k/{t}.key"))  # fmt: skip


def devices(handshakes: dict[tuple[str, str], float | None]) -> dict[str, DeviceState | None]:
    """The planned devices as observed, each peer's latest handshake by (link, key); a link
    missing from every key is a device not running."""
    found: dict[str, DeviceState | None] = {}
    for item in planned():
        links = {link for link, _ in handshakes}
        if item.link not in links:
            found[item.device.name] = None
            continue
        peers = tuple(
            PeerDump(p.public_key, p.endpoint, p.allowed, 25,
                     handshakes.get((item.link, p.public_key)), 0, 0)
            for p in item.device.peers
        )  # fmt: skip
        found[item.device.name] = DeviceState(item.device.name, 1, None, 1, 1, peers)
    return found


AGO = NOW - FIRST_HANDSHAKE_GRACE_S - 1  # first tunnelled to longer ago than the grace
CASES = [
    ("fresh on one link of two", {("mpls", KEY_B): NOW - 5, ("inet", KEY_C): NOW - 10}, AGO,
     {"b": "up", "c": "up"}),
    ("fresh on the other link only", {("mpls", KEY_B): None, ("inet", KEY_B): NOW - 170,
                                      ("inet", KEY_C): NOW - REJECT_AFTER_S - 1}, AGO,
     {"b": "up", "c": "down"}),
    ("stale everywhere", {("mpls", KEY_B): NOW - 400, ("inet", KEY_B): NOW - 181}, AGO,
     {"b": "down", "c": "down"}),
    ("never, past the grace", {("mpls", KEY_B): None, ("inet", KEY_C): None}, AGO,
     {"b": "down", "c": "down"}),
    ("never, within the grace", {("mpls", KEY_B): None, ("inet", KEY_C): None}, NOW - 10, {}),
    ("devices not running", {}, AGO, {"b": "down", "c": "down"}),
    ("stale within the grace is down", {("inet", KEY_C): NOW - 500}, NOW - 10, {"c": "down"}),
]  # fmt: skip


@pytest.mark.parametrize(("handshakes", "since", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])  # fmt: skip
def test_peer_states(
    handshakes: dict[tuple[str, str], float | None], since: float, expected: dict[str, str]
) -> None:
    seen: dict[PeerKey, float] = {("t1", "b"): since, ("t1", "c"): since}
    states = peer_states(state().overlays, planned(), devices(handshakes), seen, NOW)
    assert states == ({"t1": expected} if expected else {})


def test_first_seen_is_remembered_and_forgotten() -> None:
    seen: dict[PeerKey, float] = {("t1", "gone"): 1.0}
    assert peer_states(state().overlays, planned(), devices({}), seen, NOW) == {}
    assert seen == {("t1", "b"): NOW, ("t1", "c"): NOW}  # the grace starts now
    later = NOW + FIRST_HANDSHAKE_GRACE_S
    assert peer_states(state().overlays, planned(), devices({}), seen, later) == {
        "t1": {"b": "down", "c": "down"}
    }
    assert peer_states(state().overlays, [], {}, seen, later) == {}
    assert seen == {}
