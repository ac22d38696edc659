"""Failover by link health with real traffic (root, namespaces): the three-link lab (wanlab.py)
with the probes running, faults set at the far side with the carrier up (wanfaults.py).

- silent blackout: a 1,000 packets/s voice stream moves to the internet link and flows again;
- brownout by delay: voice, whose SLA allows 100 ms, leaves MPLS while MPLS stays up (its own
  threshold is 150 ms) and comes back after the hold once the delay is gone;
- brownout by loss, and no flap: once the loss window is full (400 probes, about a minute), 2%
  random loss for 30 s moves nothing; 10% moves voice (SLA: 5%) once the window's loss is above
  5% (the link degraded, not down), and it comes back after the hold once the misses have left
  the window. (At 25% the link goes down instead, by 4 misses in a row: a blackout's path.)
The links' probe hold is 2 s and steering's hold 3 s here (10 s and 30 s by default), to keep
the runs short; everything else is the defaults.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import LinuxDriver
from tests.site.drivers.chains import converge
from tests.site.drivers.netlab import stop_processes
from tests.site.drivers.test_sdwan_traffic import RTP, SIP, STEERING
from tests.site.drivers.wanfaults import Faults
from tests.site.drivers.wanlab import PROVIDERS, WanLab, stream_gap

pytestmark = pytest.mark.anyio
MPLS, INET, LTE = (p.site_address for p in PROVIDERS)
LINK_HOLD_S, STEERING_HOLD_S = 2, 3
VOICE_SLA = {"name": "voice", "max_latency_ms": 100, "max_loss_percent": 5}


def failover_site(lab: WanLab) -> DesiredState:
    steering = {
        **STEERING, "sla_profiles": [VOICE_SLA], "hold_s": STEERING_HOLD_S,
        "policies": [{"class": "voice", "links": ["mpls", "inet"], "sla": "voice"},
                     {"class": "bulk", "links": ["lte", "inet"]}],
    }  # fmt: skip
    return lab.state(steering, probe={"hold_s": LINK_HOLD_S})


@pytest.fixture
def faults(wanlab: WanLab, tmp_path: Path) -> Iterator[Faults]:
    made = Faults(wanlab, tmp_path)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
async def sdwan(wanlab: WanLab, tmp_path: Path) -> AsyncIterator[LinuxDriver]:
    made = LinuxDriver(wanlab.site, tmp_path / "run")
    try:
        await converge(made, failover_site(wanlab))
        yield made
    finally:
        await made.close()
        stop_processes(tmp_path / "run")


async def wan(driver: LinuxDriver) -> dict[str, Any]:
    return dict((await driver.observe()).wan.counters)


async def until(driver: LinuxDriver, check: Any, within: float) -> float | None:
    """Seconds until `check(wan counters)` holds (polled every 50 ms), None after `within`."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        if check(await wan(driver)):
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    return None


def probed(link: str, state: str) -> Any:
    return lambda w: w.get("probes", {}).get(link, {}).get("state") == state


def voice_on(link: str) -> Any:
    return lambda w: w.get("routes", {}).get("voice") == [link]


async def lan_host(lab: WanLab, driver: LinuxDriver) -> str:
    attachment = await driver.attachment("svc-1")
    assert attachment is not None
    return lab.add_host("h1", attachment).namespace


async def test_a_silent_blackout_moves_voice_and_the_stream_flows_again(
    wanlab: WanLab, sdwan: LinuxDriver, faults: Faults
) -> None:
    host = await lan_host(wanlab, sdwan)
    assert await until(sdwan, probed("mpls", "up"), within=5) is not None
    result = await asyncio.to_thread(
        stream_gap, wanlab, host, SIP, seconds=2.0, during=lambda: faults.blackout("mpls")
    )
    print(f"silent blackout: longest gap {result.max_gap_ms:.1f} ms, {result.received} of 2000")
    assert result.sources.get(INET, 0) > 500  # it flows again, out of the internet link
    assert result.sources.get(MPLS, 0) > 100
    assert result.max_gap_ms < 300  # the goal
    report = await wan(sdwan)
    assert report["routes"]["voice"] == ["inet"]
    assert report["probes"]["mpls"]["state"] == "down"
    assert report["probes"]["mpls"]["carrier"] is True  # silent: the carrier never went
    assert "missed in a row" in report["probes"]["mpls"]["reason"]
    faults.mend("mpls")
    back = await until(sdwan, voice_on("mpls"), within=20)
    print(f"back on mpls {back} s after the blackout ended")
    assert back is not None
    assert back >= LINK_HOLD_S  # the link's own hold first


async def test_a_brownout_by_delay_moves_voice_by_its_sla_and_back_after_the_hold(
    wanlab: WanLab, sdwan: LinuxDriver, faults: Faults
) -> None:
    host = await lan_host(wanlab, sdwan)
    wanlab.serve_udp(RTP)
    assert await until(sdwan, probed("mpls", "up"), within=5) is not None
    assert wanlab.ask(host, RTP) == MPLS
    faults.delay("mpls", 120)  # grows at 60 ms/s: above voice's 100 ms within ~2 s
    moved = await until(sdwan, voice_on("inet"), within=15)
    print(f"delay brownout: voice moved {moved} s after the delay began to grow")
    assert moved is not None
    report = await wan(sdwan)
    assert report["probes"]["mpls"]["state"] == "up"  # an SLA move: the link is not down
    assert report["probes"]["mpls"]["latency_ms"] > 100
    assert report["routes"]["@default"] == ["inet"]
    assert wanlab.ask(host, RTP) == INET  # a new voice flow leaves by the internet link
    faults.delay("mpls", 0)
    back = await until(sdwan, voice_on("mpls"), within=20)
    print(f"delay brownout: voice back {back} s after the delay began to shrink")
    assert back is not None
    assert back >= STEERING_HOLD_S
    assert wanlab.ask(host, RTP) == MPLS


@pytest.mark.slow
async def test_a_brownout_by_loss_moves_voice_and_2_percent_moves_nothing(
    wanlab: WanLab, sdwan: LinuxDriver, faults: Faults
) -> None:
    full = await until(sdwan, lambda w: w["probes"]["mpls"]["loss_window"] >= 400, within=90)
    assert full is not None, "the loss window did not fill"
    moves = (await wan(sdwan))["moves"]
    faults.loss("mpls", 2)
    start = time.monotonic()
    while time.monotonic() - start < 30:  # no flap: 2% is within voice's 5%
        report = await wan(sdwan)
        assert report["routes"]["voice"] == ["mpls"]
        assert report["probes"]["mpls"]["state"] == "up"
        await asyncio.sleep(0.5)
    report = await wan(sdwan)
    assert report["moves"] == moves
    print(f"2% loss for 30 s: loss {report['probes']['mpls']['loss_percent']}%, no move")
    faults.loss("mpls", 10)
    moved = await until(sdwan, voice_on("inet"), within=90)
    report = await wan(sdwan)
    print(f"10% loss: voice moved after {moved} s ({report['probes']['mpls']})")
    assert moved is not None
    probes = report["probes"]["mpls"]
    # Loss is random (numgen random): now and then 4 probes in a row are lost and the prober
    # takes the link down on that rule before the loss window says degraded (seen once in the
    # fresh-clone CI). Either verdict is the prober's to give; the loss must be behind it.
    if probes["state"] == "down":
        assert probes["reason"].endswith("probes missed in a row"), probes
        assert probes["lost"] > 0, probes
    else:
        assert probes["state"] == "degraded", probes  # by its figures
        assert probes["loss_percent"] > 5, probes
    faults.mend("mpls")
    back = await until(sdwan, voice_on("mpls"), within=150)
    print(f"loss ended: voice back after {back} s")
    assert back is not None
