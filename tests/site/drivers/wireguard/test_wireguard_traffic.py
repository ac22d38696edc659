"""Two sites, two WAN links each, an Edgewise overlay device per (peer, link): LAN-to-LAN ping
and TCP ride the preferred link's device, and the ISP's wire carries only WireGuard's UDP."""

from __future__ import annotations

import secrets
import time
from ipaddress import IPv4Address
from pathlib import Path

import anyio
import pytest

from edgewise.site.drivers.linux.wireguard import OverlayEngine
from tests.site.drivers.wireguard.overlab import (
    LINKS,
    PORTS,
    SITES,
    OverlayLab,
    capturing,
    lan_host,
    lan_prefix,
    output,
    pcap_ipv4,
    python_in,
    running,
    wireguard_message,
)
from tests.site.drivers.wireguard.traffic import ECHO, PINGER, SEND

pytestmark = pytest.mark.anyio


async def handshaken_since(
    lab: OverlayLab, engine: OverlayEngine, link: str, since: float, within: float = 8.0
) -> bool:
    """Whether both ends of `link`'s tunnel made a handshake after `since` (waits `within`)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        states = [await engine.observe(lab.device_name(s, link), lab.site(s)) for s in SITES]
        if all(
            state is not None and (state.peers[0].last_handshake or 0) > since for state in states
        ):
            return True
        await anyio.sleep(0.05)
    return False


async def build(lab: OverlayLab, engine: OverlayEngine, run_dir: Path, preferred: str) -> None:
    """Every (site, link) device, each site's route to the other's LAN over `preferred`; returns
    once both tunnels have made their first handshake."""
    for site in SITES:
        for link in LINKS:
            await engine.ensure(lab.device(site, link, run_dir))
    for link in LINKS:
        assert await handshaken_since(lab, engine, link, 0)
    for site in SITES:
        await engine.steer(lab.site(site), lab.device_name(site, preferred),
                           [lan_prefix(3 - site)], 254)  # fmt: skip


def ping(lab: OverlayLab, site: int, target: str, count: int = 5) -> str:
    return output(python_in(lab.lan(site), PINGER, target, "0.05", str(count * 0.05)))


async def test_lan_to_lan_rides_the_preferred_link_encrypted(
    overlay_lab: OverlayLab, engine: OverlayEngine, tmp_path: Path
) -> None:
    lab = overlay_lab
    await build(lab, engine, tmp_path / "keys", preferred="a")
    assert "lost []" in ping(lab, 1, lan_host(2), count=20)

    marker = "EDGEWISE-MARKER-" + secrets.token_hex(8)
    wan_capture, lan_capture = tmp_path / "ispa.pcap", tmp_path / "lan.pcap"
    with (
        capturing(lab.ns("ispa"), "site1", wan_capture),
        capturing(lab.site(1), "lan0", lan_capture),  # the control: the marker is seen here
        running(python_in(lab.lan(2), ECHO, "7000")) as echo,
    ):
        assert echo.stdout is not None
        assert echo.stdout.readline().strip() == "ready"
        answer = output(python_in(lab.lan(1), SEND, lan_host(2), "7000", marker))
        assert answer == f"{lan_host(1)} {marker}"  # the LAN address survives: no NAT inside
        await anyio.sleep(0.3)
    assert marker.encode() in lan_capture.read_bytes()
    assert marker.encode() not in wan_capture.read_bytes()
    packets = pcap_ipv4(wan_capture)
    assert len(packets) >= 6  # the TCP exchange went through here, encrypted
    messages = [wireguard_message(packet) for packet in packets]
    assert None not in messages  # every IPv4 packet on the wire is a WireGuard message
    assert {(s, d) for s, d, _ in filter(None, messages)} == {(PORTS["a"], PORTS["a"])}
    assert 4 in {kind for _, _, kind in filter(None, messages)}  # transport data among them
    wans = {IPv4Address("10.101.1.2").packed, IPv4Address("10.101.2.2").packed}
    assert all({packet[12:16], packet[16:20]} == wans for packet in packets)
    assert all(wireguard_message(packet) is None for packet in pcap_ipv4(lan_capture))  # control
    shown = output(["tcpdump", "-n", "-r", str(wan_capture)]).splitlines()
    assert all(" ARP, " in line or " UDP, length " in line for line in shown), shown

    # and the other link's device carries nothing of it: its counters stay where they were
    state_b = await engine.observe(lab.device_name(1, "b"), lab.site(1))
    assert state_b is not None
    assert state_b.peers[0].last_handshake is not None  # up and ready to take over
