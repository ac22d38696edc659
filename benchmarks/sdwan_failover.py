"""The SD-WAN failover gap: the longest gap in a 1,000 packets/s UDP stream when the link it
leaves by fails, p50 and max over N runs, one line per scenario.

Usage (root): python benchmarks/sdwan_failover.py [--runs 20] [--rate 1000] [--timeout 600]

The lab (tests/site/drivers/wanlab.py, namespaces with a random `b` + 4 hex digits prefix, all
removed at the end, on error and on Ctrl-C): a site whose LAN host sits behind a firewall + NAT
chain, three links (MPLS, internet, LTE) to a data centre, voice (UDP 5060) steered to MPLS
then the internet link, hold time 0 (so voice returns to MPLS between runs). Each run streams
voice from the LAN host to the data centre with a fresh source port, breaks MPLS half a second
in, and takes the longest gap the data centre saw; then MPLS is mended and the next run waits
until voice is back on it.

Scenarios (a name, how to break MPLS and how to mend it); more join when the link probes are
integrated (silent blackout: nftables drop on the provider, carrier up; brownout: random loss):
- carrier loss: the provider's side of the link goes down (the site's side loses carrier).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dataplane_common import Deadline, guarded, percentile  # puts the repository on sys.path
from tests.site.drivers.netlab import stop_processes
from tests.site.drivers.wanlab import PROVIDERS, WanLab, stream_gap

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.reconcile import apply_plan, plan

SIP = 5060
MPLS = PROVIDERS[0].site_address


@dataclass(frozen=True)
class Scenario:
    name: str
    breaks: Callable[[WanLab], object]
    mends: Callable[[WanLab], object]


SCENARIOS = (
    Scenario("carrier loss", lambda lab: lab.cut("mpls"), lambda lab: lab.cut("mpls", down=False)),
)


def site(lab: WanLab) -> DesiredState:
    service = {
        "id": "svc-1", "name": "svc-1", "tenant": "t1",
        "vnfs": [
            {"name": "fw", "function": "firewall", "config": {"default_action": "accept"}},
            {"name": "nat", "function": "nat", "config": {"mode": "masquerade"}},
        ],
        "chain": ["fw", "nat"],
    }  # fmt: skip
    steering = {
        "classes": [{"name": "voice", "protocol": "udp", "ports": [SIP]}],
        "policies": [{"class": "voice", "links": ["mpls", "inet"]}],
        "default_links": ["inet"], "hold_s": 0,
    }  # fmt: skip
    document = {"services": [service], "links": lab.links_document(), "steering": steering}
    return DesiredState.from_document(1, document)


async def measure(args: argparse.Namespace, deadline: Deadline) -> int:
    lab = WanLab(prefix="b" + secrets.token_hex(2))
    print(f"lab prefix: {lab.prefix}", file=sys.stderr, flush=True)
    runtime = Path(tempfile.mkdtemp(prefix="sdwan-bench-"))
    driver: LinuxDriver | None = None
    try:
        lab.start()
        driver = LinuxDriver(lab.site, runtime)
        results = await apply_plan(driver, plan(site(lab), await driver.observe()))
        failed = [f"{r.change}: {r.error}" for r in results if r.failed]
        if failed:
            print(f"error: the site did not build: {failed}", file=sys.stderr)
            return 1
        attachment = await driver.attachment("svc-1")
        assert attachment is not None
        host = lab.add_host("h1", attachment).namespace
        moves: list[float] = []
        for scenario in SCENARIOS:
            gaps: list[float] = []
            for run in range(args.runs):
                if deadline.expired:
                    print(f"warning: time is up after {run} runs", file=sys.stderr)
                    break
                breaks = functools.partial(scenario.breaks, lab)
                result = await asyncio.to_thread(
                    stream_gap, lab, host, SIP, seconds=1.5, rate=args.rate, during=breaks,
                    source_port=41_000 + run,
                )  # fmt: skip
                if result.received == 0:
                    print(f"error: run {run}: nothing arrived", file=sys.stderr)
                    return 1
                gaps.append(result.max_gap_ms)
                report = (await driver.observe()).wan.counters
                if report.get("last_move_us") is not None:
                    moves.append(float(report["last_move_us"]))
                scenario.mends(lab)
                if not await back_on_mpls(driver, deadline):
                    print("error: voice did not return to MPLS", file=sys.stderr)
                    return 1
            if gaps:
                print(f"{scenario.name}: p50 {statistics.median(gaps):.0f} ms, "
                      f"max {max(gaps):.0f} ms ({len(gaps)} runs)", flush=True)  # fmt: skip
        if moves:
            print(f"decision applied (map elements + conntrack + route): p50 "
                  f"{statistics.median(moves):.0f} µs, p90 {percentile(moves, 90):.0f} µs",
                  flush=True)  # fmt: skip
        return 0
    finally:
        if driver is not None:
            await driver.close()
        stop_processes(runtime)
        lab.close()


async def back_on_mpls(driver: LinuxDriver, deadline: Deadline) -> bool:
    """Waits (5 s at most) until voice is routed by MPLS again."""
    until = min(time.monotonic() + 5, time.monotonic() + max(deadline.left(), 0))
    while time.monotonic() < until:
        routes = (await driver.observe()).wan.counters.get("routes", {})
        if routes.get("voice") == ["mpls"]:
            return True
        await asyncio.sleep(0.05)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per scenario (default 20)")
    parser.add_argument("--rate", type=float, default=1000.0, help="packets per second")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for it all")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 1000 or not 10 <= args.rate <= 20_000 or args.timeout <= 0:
        print("error: --runs 1..1000, --rate 10..20000, --timeout > 0", file=sys.stderr)
        return 2
    deadline = Deadline(args.timeout)
    return guarded(lambda: asyncio.run(measure(args, deadline)))


if __name__ == "__main__":
    sys.exit(main())
