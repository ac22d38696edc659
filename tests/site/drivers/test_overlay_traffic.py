"""Overlays through the linux driver with real traffic (root, namespaces, wireguard-go): two
Edgewise sites driven by their desired states pass LAN-to-LAN traffic over the tenant's
overlay; a TCP flow survives ISP a's failure (the tunnels follow the links); the ISP's wire
carries only WireGuard; a hand-configured WireGuard peer passes traffic as a remote office."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import overlayside
from edgewise.site.drivers.linux.overlaypeers import REJECT_AFTER_S
from edgewise.site.drivers.linux.overlays import OVERLAY_TABLE
from edgewise.site.drivers.linux.probing_packets import MAGIC
from edgewise.site.drivers.linux.wireguard import OverlayEngine
from edgewise.site.reconcile import ChangeOp, ChangeReason
from edgewise.site.sdwan.sections import WanFault
from tests.site.drivers.chains import converge
from tests.site.drivers.netlab import in_ns, ip, link_up, wait_until
from tests.site.drivers.overlay.docs import peer
from tests.site.drivers.overlaylab import (
    INNER,
    OFFICE_INNER,
    OFFICE_LAN,
    OFFICE_PORT,
    OFFICE_WAN,
    WAN,
    OverlaySites,
)
from tests.site.drivers.wireguard.overlab import (
    capturing,
    output,
    overlay_reason,
    pcap_ipv4,
    python_in,
    running,
    wireguard_message,
)
from tests.site.drivers.wireguard.traffic import ECHO, SEND, SINK, STREAM

pytestmark = pytest.mark.anyio
REASON = overlay_reason()


@pytest.fixture
async def sites(tmp_path: Path) -> AsyncIterator[OverlaySites]:
    if REASON:
        pytest.skip(REASON)
    made = OverlaySites()
    try:
        made.start(tmp_path / "run")
        yield made
    finally:
        await made.close()


def link_probe(packet: bytes) -> bool:
    """A link health probe or its answer (ICMP echo or UDP carrying the prober's mark): the
    site probes each link in the clear, beside the tunnels."""
    header = (packet[0] & 0x0F) * 4
    payload = {1: header + 8, 17: header + 8}.get(packet[9])
    return payload is not None and packet[payload : payload + len(MAGIC)] == MAGIC


async def test_lan_to_lan_over_the_overlay(sites: OverlaySites, tmp_path: Path) -> None:
    await sites.build()
    h1, h2 = sites.host(1), sites.host(2)
    sites.sites[2].lab.serve(h2.namespace, 7000)
    assert wait_until(lambda: sites.sites[1].lab.ping(h1.namespace, h2.address), 10)
    # the LAN address crosses unchanged (no NAT on the way: the overlay carries it)
    assert sites.sites[1].lab.connect(h1.namespace, h2.address, 7000) == h1.address
    # encrypted on the wire: every IPv4 packet on ISP a's port to site 1 is WireGuard
    marker = "plaintext-" + secrets.token_hex(8)
    pcap = tmp_path / "ispa.pcap"
    with running(python_in(h2.namespace, ECHO, "7001")) as echo:
        assert echo.stdout is not None
        assert echo.stdout.readline().strip() == "ready"
        with capturing(sites.ns("ispa"), "s1", pcap):
            for _ in range(3):
                answer = output(python_in(h1.namespace, SEND, h2.address, "7001", marker))
                assert answer == f"{h1.address} {marker}"
    packets = [p for p in pcap_ipv4(pcap) if not link_probe(p)]
    assert packets
    site1, site2 = WAN[(1, "a")][0], WAN[(2, "a")][0]
    for packet in packets:
        assert wireguard_message(packet) is not None, packet[:40].hex()
        ends = {".".join(map(str, packet[12:16])), ".".join(map(str, packet[16:20]))}
        assert ends == {site1, site2}
    assert any(wireguard_message(p)[2] == 4 for p in packets)  # type: ignore[index]
    assert marker.encode() not in pcap.read_bytes()


async def test_the_tunnels_to_a_peer_are_up_then_down_from_its_handshakes(
    sites: OverlaySites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status's `overlay_peers` from wireguard-go's handshakes: up once traffic passed; with
    the peer's devices stopped, down once the last handshake is older than reject-after-time."""
    await sites.build()
    h1, h2 = sites.host(1), sites.host(2)
    assert wait_until(lambda: sites.sites[1].lab.ping(h1.namespace, h2.address), 10)
    seen = await sites.sites[1].driver.observe()
    assert seen.wan.overlay_peers == {"t1": {"site2": "up"}}
    engine = OverlayEngine(sites.sites[2].runtime / "overlay")
    for name in engine.devices():
        engine.processes.stop(name)
    engine.close()
    assert (await sites.sites[1].driver.observe()).wan.overlay_peers == {"t1": {"site2": "up"}}
    later = time.time() + REJECT_AFTER_S
    monkeypatch.setattr(overlayside, "epoch", lambda: later)
    assert (await sites.sites[1].driver.observe()).wan.overlay_peers == {"t1": {"site2": "down"}}


async def test_a_tcp_flow_survives_a_link_failure(sites: OverlaySites) -> None:
    await sites.build()
    h1, h2 = sites.host(1), sites.host(2)
    assert wait_until(lambda: sites.sites[1].lab.ping(h1.namespace, h2.address), 10)
    with running(python_in(h2.namespace, SINK, "7100", "20")) as sink:
        assert sink.stdout is not None
        assert sink.stdout.readline().strip() == "ready"
        with running(python_in(h1.namespace, STREAM, h2.address, "7100", "3")) as stream:
            assert stream.stdout is not None
            assert stream.stdout.readline().strip() == "connected"
            await asyncio.sleep(1.0)  # (the loop runs: the drivers' carrier watches report to it)
            sites.cut("a")  # ISP a fails: both sites' link a loses carrier
            sent = (await asyncio.to_thread(stream.stdout.readline)).strip()
        received = (await asyncio.to_thread(sink.stdout.readline)).strip()
    routes = [(await s.driver.observe()).wan.counters["overlays"] for s in sites.sites.values()]
    print(f"overlay failover through the driver: {received}; {sent}")
    assert received.endswith("end"), received  # no reset
    assert sent.endswith("ok"), sent
    assert int(sent.split()[1]) + 3 == int(received.split()[1])  # every byte
    assert float(received.split()[3]) < 1.0
    assert all(r["moves"] >= 1 for r in routes)


async def test_a_hand_configured_peer_as_a_remote_office(sites: OverlaySites) -> None:
    await sites.build()
    site_key = (await sites.keys(1))["public_key"]
    office_key = sites.office(site_key)
    office = peer("office", office_key, OFFICE_INNER, [f"{OFFICE_LAN.rsplit('.', 1)[0]}.0/24"],
                  [("b", OFFICE_WAN, OFFICE_PORT)])  # fmt: skip
    await sites.publish(3, {1: [office]})
    h1 = sites.host(1)
    lab = sites.sites[1].lab
    assert wait_until(lambda: lab.ping(h1.namespace, OFFICE_LAN), 10)
    assert sites.hand is not None
    lab.serve(sites.hand.ns("office"), 7200)
    assert lab.connect(h1.namespace, OFFICE_LAN, 7200) == h1.address
    assert lab.ping(h1.namespace, INNER[2])  # the other site still answers


async def test_tunnels_need_no_default_route_in_the_main_table(sites: OverlaySites) -> None:
    """The peers' WAN addresses are routed only in the links' fwmark tables once the main
    table has no default (no link carries default traffic): with the links' rp_filter 2, the
    reverse-path check would drop every WireGuard packet; the overlay side sets it to 0."""
    await sites.build()
    for site in sites.sites.values():
        ip("-n", site.lab.wan, "route", "del", "default", "proto", "190")
        ip("-n", site.lab.wan, "route", "flush", "cache")
    h1, h2 = sites.host(1), sites.host(2)
    assert sites.sites[1].lab.ping(h1.namespace, h2.address, 3)
    for site in sites.sites.values():
        assert in_ns(site.lab.wan, "sysctl", "-n", "net.ipv4.conf.all.rp_filter") == "0"


async def test_drift_is_healed_and_the_unwanted_removed(sites: OverlaySites) -> None:
    await sites.build()
    site = sites.sites[1]
    h1, h2 = sites.host(1), sites.host(2)
    engine = OverlayEngine(site.runtime / "overlay")  # to look at what the driver's runs
    try:
        names = engine.devices()
        assert len(names) == 2
        killed, deleted = names
        state = await engine.observe(killed, site.lab.wan)
        assert state is not None
        os.kill(state.pid, signal.SIGKILL)
        ip("-n", site.lab.wan, "link", "del", deleted)
        assert wait_until(lambda: not any(link_up(site.lab.wan, n) for n in names), 5)
        seen = await site.driver.observe()
        assert WanFault.OVERLAYS_BROKEN in seen.wan.faults
        desired = DesiredState.from_document(2, sites.document(1, []))
        current = next(r for r in sites.published[1] if r.revision == 2)
        results = await converge(site.driver, current)
        assert [(r.change.op, r.change.reason) for r in results] == [
            (ChangeOp.UPDATE_OVERLAYS, ChangeReason.UNHEALTHY)
        ]
        assert all(link_up(site.lab.wan, n) for n in names)
        assert wait_until(lambda: sites.sites[1].lab.ping(h1.namespace, h2.address), 10)
        # the section removed: the devices, their rules and routes, and the key go
        await converge(site.driver, replace(desired, revision=3, overlays=()))
        assert engine.devices() == []
        assert "eigrp" not in in_ns(site.lab.wan, "ip", "rule")
        assert in_ns(site.lab.wan, "ip", "route", "show", "table", str(OVERLAY_TABLE)) == ""
        assert not any((site.runtime / "overlay-keys").iterdir())
        assert not any(link_up(site.lab.wan, n) for n in names)
    finally:
        engine.close()
