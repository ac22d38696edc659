"""Failover between a site's two WAN links: a long-lived LAN-to-LAN TCP flow keeps going (no
reset, every byte through) when the preferred link loses carrier and both sites point the
other's LAN at the other link's overlay device (`OverlayEngine.steer`, as the steering engine
will). The inner addresses stay, so the flow does not notice the move; the gap is measured."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import anyio
import pytest

from edgewise.site.drivers.linux.wireguard import OverlayEngine
from tests.site.drivers.wireguard.overlab import (
    SITES,
    OverlayLab,
    lan_host,
    lan_prefix,
    python_in,
    running,
    set_carrier,
)
from tests.site.drivers.wireguard.test_wireguard_traffic import build
from tests.site.drivers.wireguard.traffic import SINK, STREAM

pytestmark = pytest.mark.anyio
STREAM_S = 4.0
FAIL_AT_S = 1.5


def stream_error(proc: subprocess.Popen[str]) -> str:
    proc.wait(timeout=10)
    assert proc.stderr is not None
    return proc.stderr.read()[-1000:]


async def test_a_tcp_flow_survives_the_loss_of_its_link(
    overlay_lab: OverlayLab, engine: OverlayEngine, tmp_path: Path
) -> None:
    lab = overlay_lab
    await build(lab, engine, tmp_path / "keys", preferred="a")
    before = await engine.observe(lab.device_name(1, "b"), lab.site(1))
    on_a = await engine.observe(lab.device_name(1, "a"), lab.site(1))
    assert before is not None
    assert on_a is not None
    with running(python_in(lab.lan(2), SINK, "7100", "20")) as sink:
        assert sink.stdout is not None
        assert sink.stdout.readline().strip() == "ready"  # listening before the stream starts
        with running(python_in(lab.lan(1), STREAM, lan_host(2), "7100", str(STREAM_S))) as stream:
            assert stream.stdout is not None
            assert stream.stdout.readline().strip() == "connected", stream_error(stream)
            await anyio.sleep(FAIL_AT_S)
            moving = await engine.observe(lab.device_name(1, "a"), lab.site(1))
            assert moving is not None
            assert moving.peers[0].tx_bytes > on_a.peers[0].tx_bytes + 100_000  # it rode link A
            set_carrier(lab, 1, "a", up=False)  # site 1's link A: carrier gone
            for site in SITES:
                await engine.steer(lab.site(site), lab.device_name(site, "b"),
                                   [lan_prefix(3 - site)], 254)  # fmt: skip
            sent = stream.stdout.readline().strip()
        received = sink.stdout.readline().strip()
    assert re.fullmatch(r"sent \d+ ok", sent), sent
    found = re.fullmatch(r"received (\d+) gap ([\d.]+) end", received)
    assert found, received  # not "reset": the flow lived through the move
    assert int(found[1]) == int(sent.split()[1]) + len(b"END")  # every byte arrived
    gap = float(found[2])
    print(f"failover gap (longest pause of the TCP flow): {gap * 1000:.0f} ms")
    assert gap < 3.0
    after = await engine.observe(lab.device_name(1, "b"), lab.site(1))
    assert after is not None
    assert after.peers[0].tx_bytes > before.peers[0].tx_bytes + 100_000  # the rest rode link B
