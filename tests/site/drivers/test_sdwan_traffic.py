"""SD-WAN with real traffic (root, namespaces): a site with three links (MPLS, internet, LTE) to
a data centre; voice leaves by MPLS, bulk by LTE, the rest by the internet, as the source
address the servers see and the per-class per-link counters prove; carrier loss on MPLS moves
voice to the internet link at once, and a 1,000 packets/s stream flows again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import LinuxDriver
from tests.site.drivers.chains import converge
from tests.site.drivers.netlab import in_ns, stop_processes, wait_until
from tests.site.drivers.wanlab import DC_SERVER, PROVIDERS, WanLab, stream_gap

pytestmark = pytest.mark.anyio
MPLS, INET, LTE = (p.site_address for p in PROVIDERS)
SIP, RTP, BULK, WEB = 5060, 16_384 + 500, 873, 8080  # RTP: within the class's range
STEERING: dict[str, Any] = {
    "classes": [
        {"name": "voice", "protocol": "udp", "ports": [SIP], "port_ranges": [[16_384, 32_767]]},
        {"name": "bulk", "protocol": "tcp", "ports": [BULK]},
    ],
    "policies": [
        {"class": "voice", "links": ["mpls", "inet"]},
        {"class": "bulk", "links": ["lte", "inet"]},
    ],
    "default_links": ["inet", "mpls", "lte"],
    "hold_s": 30,
}


def sdwan_site(lab: WanLab, revision: int = 1, **steering: Any) -> DesiredState:
    return lab.state({**STEERING, **steering}, revision=revision)


@pytest.fixture
async def sdwan(wanlab: WanLab, tmp_path: Path) -> AsyncIterator[LinuxDriver]:
    made = LinuxDriver(wanlab.site, tmp_path / "run")
    try:
        await converge(made, sdwan_site(wanlab))
        yield made
    finally:
        await made.close()
        stop_processes(tmp_path / "run")


async def lan_host(lab: WanLab, driver: LinuxDriver) -> str:
    attachment = await driver.attachment("svc-1")
    assert attachment is not None
    return lab.add_host("h1", attachment).namespace


async def test_each_class_leaves_by_its_link(wanlab: WanLab, sdwan: LinuxDriver) -> None:
    host = await lan_host(wanlab, sdwan)
    wanlab.serve_udp(SIP)
    wanlab.serve_udp(RTP)
    for port in (BULK, WEB):
        wanlab.serve(wanlab.dc, port)

    assert wanlab.ask(host, SIP) == MPLS  # voice: the server sees the MPLS link's address
    assert wanlab.ask(host, RTP) == MPLS
    assert wanlab.connect(host, DC_SERVER, BULK) == LTE
    assert wanlab.connect(host, DC_SERVER, WEB) == INET  # default traffic
    classes = (await sdwan.observe()).wan.counters["classes"]
    assert classes["voice"]["mpls"]["packets"] >= 2
    assert classes["voice"]["inet"]["packets"] == 0
    assert classes["bulk"]["lte"]["packets"] > 0
    assert classes["@default"]["inet"]["packets"] > 0
    assert classes["@default"]["mpls"]["packets"] == 0


async def test_what_the_wan_side_sends_itself_is_no_class_s(
    wanlab: WanLab, sdwan: LinuxDriver
) -> None:
    wanlab.serve_udp(SIP)
    for _ in range(5):  # as an overlay tunnel or a probe would: from the WAN side, by a link
        assert wanlab.ask(wanlab.wan, SIP) == INET
    classes = (await sdwan.observe()).wan.counters["classes"]
    counted = sum(c["packets"] for by_link in classes.values() for c in by_link.values())
    assert counted == 0, classes


async def test_carrier_loss_moves_voice_and_the_stream_flows_again(
    wanlab: WanLab, sdwan: LinuxDriver
) -> None:
    host = await lan_host(wanlab, sdwan)
    wanlab.serve_udp(RTP)
    assert wanlab.ask(host, RTP) == MPLS
    result = stream_gap(wanlab, host, SIP, seconds=2.0, during=lambda: wanlab.cut("mpls"))
    print(f"carrier loss: longest gap {result.max_gap_ms:.1f} ms, {result.received} of 2000")
    assert result.sources.get(INET, 0) > 500  # it flows again, out of the internet link
    assert result.sources.get(MPLS, 0) > 100
    assert result.max_gap_ms < 300  # the goal (the carrier is polled every 20 ms)
    assert wanlab.ask(host, RTP) == INET  # a new voice flow too
    report = (await sdwan.observe()).wan.counters
    assert report["routes"]["voice"] == ["inet"]
    assert report["health"]["mpls"] == {"state": "down"}
    print(f"decision applied in {report['last_move_us']:.0f} µs")
    assert report["last_move_us"] < 50_000
    wanlab.cut("mpls", down=False)  # back: voice waits the hold time (30 s) before returning
    assert wait_until(lambda: sdwan_links_up(wanlab), timeout=3)
    assert wanlab.ask(host, RTP) == INET


def sdwan_links_up(lab: WanLab) -> bool:
    from tests.site.drivers.netlab import link_up

    return link_up(lab.wan, "mpls0")


async def test_a_restarted_driver_adopts_the_links(
    wanlab: WanLab, sdwan: LinuxDriver, tmp_path: Path
) -> None:
    host = await lan_host(wanlab, sdwan)
    wanlab.serve_udp(SIP)
    await sdwan.close()
    again = LinuxDriver(wanlab.site, tmp_path / "run")
    try:
        results = await converge(again, sdwan_site(wanlab))
        # the links are adopted as they are; the steering table is loaded again to drive it
        assert [str(r.change) for r in results] == ["update-steering @site"]
        assert wanlab.ask(host, SIP) == MPLS
    finally:
        await again.close()


async def test_the_drift_watch_hears_the_steering_table_deleted_not_a_move(
    wanlab: WanLab, sdwan: LinuxDriver
) -> None:
    events = sdwan.drift_events()
    assert isinstance(events, AsyncGenerator)
    heard = asyncio.ensure_future(anext(events))  # the watch runs while this waits
    try:
        await asyncio.sleep(0.5)
        wanlab.cut("mpls")  # steering moves voice: its own map elements, no drift
        await asyncio.sleep(0.5)
        assert (await sdwan.observe()).wan.counters["routes"]["voice"] == ["inet"]
        assert not heard.done()
        in_ns(wanlab.wan, "nft", "delete", "table", "ip", "ew_steer")
        line = await asyncio.wait_for(heard, 3)
        assert line == f"ruleset changed in {wanlab.wan}"
    finally:
        heard.cancel()
        await events.aclose()
