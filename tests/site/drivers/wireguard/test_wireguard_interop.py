"""Interoperability: a tenant's remote office runs a standard WireGuard peer configured by hand
(wireguard-go started by hand, `wg set`, `ip`; no Edgewise code on that side) and passes
traffic both ways with an Edgewise overlay device at site 1."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path

import pytest

from edgewise.site.drivers.linux.wireguard import (
    Endpoint,
    OverlayDevice,
    OverlayEngine,
    OverlayPeer,
)
from edgewise.site.drivers.linux.wireguard.keys import ensure_key
from tests.site.drivers.netlab import ip
from tests.site.drivers.wireguard.overlab import (
    MARKS,
    OverlayLab,
    lan_host,
    output,
    python_in,
    running,
    veth,
)
from tests.site.drivers.wireguard.traffic import ECHO, PINGER, SEND

pytestmark = pytest.mark.anyio
OFFICE_WAN = "10.101.9.2"
OFFICE_LAN = "172.16.9.1"
OFFICE_PORT = 51820
SITE_PORT = 51809


async def test_a_hand_configured_wireguard_peer_talks_to_an_edgewise_device(
    overlay_lab: OverlayLab, engine: OverlayEngine, tmp_path: Path
) -> None:
    lab = overlay_lab
    office = lab.ns("office")
    ip("netns", "add", office)
    ip("-n", office, "link", "set", "lo", "up")
    veth(office, "eth0", f"{OFFICE_WAN}/30", lab.ns("ispa"), "office", "10.101.9.1/30")
    ip("-n", office, "route", "add", "default", "via", "10.101.9.1")
    ip("-n", office, "addr", "add", f"{OFFICE_LAN}/32", "dev", "lo")  # the office's LAN

    site_key = tmp_path / "keys" / "s1-office.key"
    device = OverlayDevice(
        name=f"{lab.prefix}s1o",
        namespace=lab.site(1),
        private_key_file=site_key,
        listen_port=SITE_PORT,
        fwmark=MARKS["a"],
        address=IPv4Interface("10.255.9.0/31"),
        peers=(),
        table=254,
    )
    site_public = ensure_key(site_key)
    wg = f"{lab.prefix}off"
    peer = lab.hand_peer(office, wg, tmp_path / "office.key", [
        "listen-port", str(OFFICE_PORT),
        "peer", site_public, "endpoint", f"10.101.1.2:{SITE_PORT}",
        "allowed-ips", "192.168.1.0/24,10.255.9.0/32", "persistent-keepalive", "5",
    ])  # fmt: skip
    for argv in (
        ["addr", "add", "10.255.9.1/31", "dev", wg],
        ["link", "set", wg, "up"],
        ["route", "add", "192.168.1.0/24", "dev", wg],
    ):
        ip("-n", office, *argv)

    remote = OverlayPeer(
        public_key=peer.public_key,
        endpoint=Endpoint.parse(f"{OFFICE_WAN}:{OFFICE_PORT}"),
        allowed=(IPv4Network(f"{OFFICE_LAN}/32"), IPv4Network("10.255.9.1/32")),
    )
    await engine.ensure(replace(device, peers=(remote,)))  # the central's peer entry

    pinger = python_in(lab.lan(1), PINGER, OFFICE_LAN, "0.05", "1")
    assert "lost []" in output(pinger).splitlines()[-1]
    with running(python_in(office, ECHO, "7200")) as echo:
        assert echo.stdout is not None
        assert echo.stdout.readline().strip() == "ready"
        answer = output(python_in(lab.lan(1), SEND, OFFICE_LAN, "7200", "hello office"))
        assert answer == f"{lan_host(1)} hello office"
    back = output(python_in(office, PINGER, lan_host(1), "0.05", "1"))
    assert "lost []" in back.splitlines()[-1]

    state = await engine.observe(device.name, lab.site(1))
    assert state is not None
    seen = state.peer(peer.public_key)
    assert seen is not None
    assert seen.last_handshake is not None
    assert seen.rx_bytes > 0
    assert seen.endpoint == remote.endpoint
    shown = output(["ip", "netns", "exec", office, "wg", "show", wg, "latest-handshakes"])
    assert shown.split()[0] == site_public  # the office side sees the site's key
    assert int(shown.split()[1]) > 0
