"""Real-time policy with real traffic (root, namespaces), the central unreachable: a site
controller runs from its journal over the linux driver (wanlab.py: three links to a data
centre) while every poll and report fails. A port scan from the WAN side (one source opening
many new flows) is blocked within 2 s and unblocked after its time, another source is
unaffected; a class sending above its rate is limited, the rate measured before and after; a
class is steered to another link while a link is down."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.errors import ChannelUnavailable
from edgewise.site.journal import Journal, OutboxItem
from edgewise.site.uplink import PolledDesired, ReportReceipt
from tests.site.drivers.netlab import in_ns, ip, stop_processes
from tests.site.drivers.wanlab import CHAIN_SERVICE, DC_SERVER, PROVIDERS, WanLab
from tests.site.fakes import eventually

pytestmark = pytest.mark.anyio
MPLS, INET, LTE = (p.site_address for p in PROVIDERS)  # the data centre reaches it by MPLS
SCANNER = "192.0.2.66"  # a second source in the data centre: the one that scans
LISTEN = 7000  # a server in the site's WAN namespace (both sources try it)
BULK = 5999
BLOCK_S = 4
STEERING: dict[str, Any] = {
    "classes": [{"name": "bulk", "protocol": "tcp", "ports": [BULK]}],
    "policies": [{"class": "bulk", "links": ["inet"]}],
    "default_links": ["mpls", "inet", "lte"],
}
RULES = [
    {"name": "scan", "when": {"kind": "new_flows", "flows_above": 20},
     "then": {"kind": "block", "for_s": BLOCK_S}},
    {"name": "bulk-cap", "when": {"kind": "class_rate", "class": "bulk", "rate_above": "40 Mbps"},
     "then": {"kind": "rate_limit", "class": "bulk", "rate": "10 Mbps"}, "hold_s": 30},
    {"name": "mpls-gone", "when": {"kind": "link_down", "link": "mpls"},
     "then": {"kind": "steer", "class": "bulk", "link": "lte"}, "hold_s": 0},
]  # fmt: skip

SCAN = r"""
import json, socket, sys, time
source, target, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
start = time.monotonic(); answered = 0; dropped_at = None
for port in range(first, first + count):
    s = socket.socket(); s.bind((source, 0)); s.settimeout(0.25); sent = time.monotonic()
    try:
        s.connect((target, port)); answered += 1
    except ConnectionRefusedError:
        answered += 1
    except OSError:  # no answer: the SYN sent at `sent` was dropped
        dropped_at = sent - start
        break
    finally:
        s.close()
print(json.dumps({"answered": answered, "dropped_after_s": dropped_at}))
"""

CONNECT = r"""
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); s.settimeout(float(sys.argv[4]))
try:
    s.connect((sys.argv[2], int(sys.argv[3]))); print(s.recv(100).decode().strip())
except OSError as exc:
    print("failed", exc)
"""


class Unreachable:
    """A central that never answers: every poll and report fails (the controller backs off)."""

    async def poll_desired(self, revision: int) -> PolledDesired | None:
        await asyncio.sleep(0.05)
        raise ChannelUnavailable("the central is unreachable (test)")

    async def send_reports(self, items: Sequence[OutboxItem]) -> ReportReceipt:
        raise ChannelUnavailable("the central is unreachable (test)")

    async def close(self) -> None:
        return None


SPAM = [
    {"name": "spam", "when": {"kind": "new_flows", "flows_above": 20},
     "then": {"kind": "rate_limit", "source": True, "rate": "2 Mbps"}, "hold_s": 60},
]  # fmt: skip


@pytest.fixture
async def site(
    wanlab: WanLab, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[SiteController]:
    """The controller with the site's document (its rules: RULES, or the test's own through
    an indirect parameter), the central unreachable."""
    rules = getattr(request, "param", RULES)
    ip("-n", wanlab.dc, "addr", "add", f"{SCANNER}/32", "dev", "lo")
    driver = LinuxDriver(wanlab.site, tmp_path / "run")
    settings = ControllerSettings(reconcile_interval=2.0, first_poll_max_delay=0.0)
    controller = SiteController(Journal.open(tmp_path / "journal.db"), driver, Unreachable(),
                                settings)  # fmt: skip
    document = {"services": [CHAIN_SERVICE], "links": wanlab.links_document(),
                "steering": STEERING, "policy_rules": rules}  # fmt: skip
    try:
        controller.accept(1, document)
        async with controller:
            await eventually(lambda: controller.journal.applied_revision() == 1, within=30)
            await eventually(lambda: has_policy_table(wanlab), within=5)
            yield controller
    finally:
        stop_processes(tmp_path / "run")


def has_policy_table(lab: WanLab) -> bool:
    listed = subprocess.run(["ip", "netns", "exec", lab.wan, "nft", "list", "table", "ip",
                             "ew_policy"], capture_output=True, check=False)  # fmt: skip
    return listed.returncode == 0


def connect(lab: WanLab, source: str, port: int = LISTEN, timeout: float = 0.5) -> str:
    return in_ns(lab.dc, sys.executable, "-c", CONNECT, source, MPLS, str(port), str(timeout))


def events(site: SiteController, name: str) -> list[dict[str, Any]]:
    return [i.body for i in site.journal.pending(5000)
            if i.kind == "event" and i.body.get("event") == name]  # fmt: skip


async def test_a_port_scan_is_blocked_at_once_and_unblocked_after_its_time(
    wanlab: WanLab, site: SiteController
) -> None:
    wanlab.serve(wanlab.wan, LISTEN)
    assert connect(wanlab, SCANNER) == SCANNER
    assert connect(wanlab, DC_SERVER) == DC_SERVER

    started = time.monotonic()
    out = in_ns(wanlab.dc, sys.executable, "-c", SCAN, SCANNER, MPLS, "20000", "500", timeout=30)
    scan = json.loads(out)
    assert scan["dropped_after_s"] is not None, scan  # the scan was cut short
    assert scan["dropped_after_s"] < 2.0
    assert scan["answered"] < 100
    assert connect(wanlab, SCANNER).startswith("failed")  # blocked, even a listening port
    assert connect(wanlab, DC_SERVER) == DC_SERVER  # another source: unaffected
    await eventually(lambda: bool(events(site, "policy-triggered")), within=3)
    told = time.monotonic() - started
    (raised,) = events(site, "policy-triggered")
    assert raised["rule"] == "scan"
    assert raised["source"] == SCANNER
    counted = (await site.driver.observe()).wan.counters["policy"]["scan"]  # what is reported
    assert (counted["active"], counted["matches"], counted["flagged"]) == (True, 1, 1)
    assert counted["dropped"] > 0  # the scan's packets after the block

    await asyncio.sleep(BLOCK_S - (time.monotonic() - started) + 0.5)
    assert connect(wanlab, SCANNER) == SCANNER  # the kernel expired the block
    await eventually(lambda: bool(events(site, "policy-cleared")), within=3)
    assert not site.connected  # all along without the central
    print(f"\nblock latency: the first SYN dropped was sent {scan['dropped_after_s'] * 1000:.1f} "
          f"ms after the scan began ({scan['answered']} flows answered before); the event was "
          f"in the outbox after {told:.2f} s")  # fmt: skip


def iperf_intervals(
    lab: WanLab,
    client: str,
    seconds: int,
    *,
    server: tuple[str, str] | None = None,
    source: str | None = None,
) -> list[float]:
    """Bits per second of each second of an iperf3 TCP upload from `client` (from `source`,
    when given) to port BULK of `server` (namespace, address: the data centre's by default)."""
    where, address = server or (lab.dc, DC_SERVER)
    listening = subprocess.Popen(
        ["ip", "netns", "exec", where, "iperf3", "-s", "-1", "-p", str(BULK), "-B", address],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    bind = ["-B", source] if source is not None else []
    try:
        for _ in range(50):  # the server needs a moment to listen
            out = in_ns(client, "iperf3", "-c", address, "-p", str(BULK), "-t", str(seconds),
                        "-J", *bind, timeout=seconds + 15)  # fmt: skip
            report = json.loads(out or "{}")
            if "error" not in report and "intervals" in report:
                return [float(i["sum"]["bits_per_second"]) for i in report["intervals"]]
            time.sleep(0.1)
        raise AssertionError(f"iperf3 failed: {out[-300:]}")
    finally:
        listening.kill()
        listening.wait(timeout=5)


async def test_a_class_above_its_rate_is_limited(wanlab: WanLab, site: SiteController) -> None:
    driver = site.driver
    assert isinstance(driver, LinuxDriver)
    attachment = await driver.attachment("svc-1")
    assert attachment is not None
    host = wanlab.add_host("h1", attachment).namespace

    rates = await asyncio.to_thread(iperf_intervals, wanlab, host, 8)

    before, after = rates[0], sum(rates[-3:]) / 3
    assert before > 40e6, rates  # the first second, before the rule acts
    assert 5e6 < after < 15e6, rates  # limited to 10 Mbit/s
    (raised,) = events(site, "policy-triggered")
    assert raised["rule"] == "bulk-cap"
    assert "class bulk at" in raised["detail"]
    assert not site.connected
    print(f"\nclass bulk: {before / 1e6:.0f} Mbit/s in the first second, "
          f"{after / 1e6:.1f} Mbit/s over the last three (limit 10 Mbit/s)")  # fmt: skip


async def test_a_class_is_steered_while_a_link_is_down(
    wanlab: WanLab, site: SiteController
) -> None:
    driver = site.driver
    assert isinstance(driver, LinuxDriver)
    attachment = await driver.attachment("svc-1")
    assert attachment is not None
    host = wanlab.add_host("h1", attachment).namespace
    wanlab.serve(wanlab.dc, BULK)
    assert wanlab.connect(host, DC_SERVER, BULK) == INET  # its steering policy: inet

    async def leaves_by(address: str) -> bool:
        seen = await asyncio.to_thread(wanlab.connect, host, DC_SERVER, BULK, 0.3)
        return seen == address

    cut = time.monotonic()
    wanlab.cut("mpls")
    await eventually(lambda: leaves_by(LTE), within=5)
    moved = time.monotonic() - cut
    wanlab.cut("mpls", down=False)  # up again once its probes answer for hold_s (10 s)
    await eventually(lambda: leaves_by(INET), within=25)
    assert [e["rule"] for e in events(site, "policy-triggered")] == ["mpls-gone"]
    assert [e["rule"] for e in events(site, "policy-cleared")] == ["mpls-gone"]
    assert not site.connected
    print(f"\nbulk on lte {moved:.2f} s after mpls lost its carrier")


@pytest.mark.parametrize("site", [SPAM], indirect=True)
async def test_a_source_opening_flows_too_fast_is_rate_limited(
    wanlab: WanLab, site: SiteController
) -> None:
    out = in_ns(wanlab.dc, sys.executable, "-c", SCAN, SCANNER, MPLS, "20000", "100", timeout=30)
    assert json.loads(out)["dropped_after_s"] is None  # limited, not blocked: all answered
    await eventually(lambda: bool(events(site, "policy-triggered")), within=3)
    on_site = (wanlab.wan, MPLS)  # an upload to a server in the site's WAN namespace

    flagged = await asyncio.to_thread(iperf_intervals, wanlab, wanlab.dc, 3, server=on_site,
                                      source=SCANNER)  # fmt: skip
    other = await asyncio.to_thread(iperf_intervals, wanlab, wanlab.dc, 3, server=on_site,
                                    source=DC_SERVER)  # fmt: skip

    limited, free = sum(flagged[1:]) / 2, sum(other[1:]) / 2
    assert 1e6 < limited < 3e6, flagged  # 2 Mbit/s
    assert free > 50e6, other
    (raised,) = events(site, "policy-triggered")
    assert (raised["rule"], raised["source"]) == ("spam", SCANNER)
    print(f"\nthe flagged source: {limited / 1e6:.1f} Mbit/s (limit 2); another: "
          f"{free / 1e6:.0f} Mbit/s")  # fmt: skip
