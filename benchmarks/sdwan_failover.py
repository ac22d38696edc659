"""The SD-WAN failover: the longest gap in a 1,000 packets/s UDP stream when the link it leaves
by fails (carrier loss, silent blackout), and how soon a class leaves a link that breaks its
SLA (brownout by loss, by delay), p50 and max over N runs, one line per scenario.

Usage (root): python benchmarks/sdwan_failover.py [--runs 20] [--rate 1000] [--timeout 900]
              [--scenarios carrier,blackout,delay,loss] [--loss 10] [--delay 120]
              [--flap-minutes 0]

The lab (tests/site/drivers/wanlab.py, namespaces with a random `b` + 4 hex digits prefix, all
removed at the end, on error and on Ctrl-C): a site whose LAN host sits behind a firewall + NAT
chain, three links (MPLS, internet, LTE) to a data centre, each probed with the defaults
(ICMP to its gateway every 150 ms, 20 ms after a miss, down after 4 misses; loss over 400
probes, latency and jitter over 20 answers). Voice (UDP 5060) goes by MPLS then the internet
link, with the SLA max latency 100 ms, max loss 5%. Holds are 0 (steering's and the links'),
so that voice returns to MPLS between runs. Faults are set at the provider's side of MPLS
(tests/site/drivers/wanfaults.py); each run starts with voice on MPLS.

Scenarios:
- carrier loss: the provider's side of the link goes down. The stream's longest gap.
- silent blackout: the provider drops everything from the site (nftables), carrier up. The
  stream's longest gap (goal: 300 ms at <= 10 probes/s).
- brownout (delay): the provider delays what the site sends, growing at 60 ms/s to --delay ms
  (a filling buffer; an NFQUEUE program). Voice's move, measured from the moment the delay
  began to grow (it passes 100 ms after 1.7 s) and from the moment the link's latency figure
  (mean of the last 20 answers) crossed 100 ms.
- brownout (loss): the provider drops --loss % at random. Each run starts with MPLS's loss
  window full and at most 1% in it (the last run's misses gone: about a minute). Voice's move,
  from the fault and from the moment the window's loss crossed 5%.
In both brownouts the move is decided on the very figure that breaks the SLA (in the prober's
thread), so "after the SLA broke" is how long that decision and its application take; the
time from the fault to the broken SLA is statistics (how many probes it takes to see it).
--flap-minutes M: once the loss window is full, M minutes of 2% random loss on MPLS (voice's SLA
allows 5%): prints the moves and link state changes (goal: none in 10 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataplane_common import Deadline, guarded, percentile  # puts the repository on sys.path
from tests.site.drivers.netlab import stop_processes
from tests.site.drivers.wanfaults import Faults
from tests.site.drivers.wanlab import PROVIDERS, WanLab, stream_gap

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.probing import LinkHealth, LinkProber, Measured, Report
from edgewise.site.drivers.linux.wanhealth import real_prober
from edgewise.site.health import LinkHealthSettings, LinkState, Transition
from edgewise.site.reconcile import apply_plan, plan

SIP = 5060
MPLS = PROVIDERS[0].site_address
MAX_LATENCY_MS, MAX_LOSS = 100, 5
WINDOW, CLEAN_LOSS = 400, 1.0  # the loss window (probes); at most this loss % before a run
SCENARIO_NAMES = ("carrier", "blackout", "delay", "loss")


@dataclass
class SlaWatch:
    """Wraps the real prober: notes when MPLS's figures first break voice's SLA (or its state
    leaves up) while armed, and when voice left MPLS, as the prober's thread sees them."""

    driver: LinuxDriver | None = None
    armed: bool = False
    broken_at: float | None = None
    movable_at: float | None = None  # broken, and the internet link kept the SLA: a move due
    moved_at: float | None = None
    inet_keeps: bool = True  # the internet link is up and within voice's SLA, as last seen
    changes: list[Transition] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self) -> None:
        with self._lock:
            self.armed, self.broken_at, self.movable_at, self.moved_at = True, None, None, None

    def factory(
        self, namespace: str, links: Sequence[LinkHealthSettings], report: Report,
        measured: Measured,
    ) -> LinkProber:  # fmt: skip
        def reported(change: Transition) -> None:
            if change.link == "mpls":
                self.changes.append(change)
            if change.link == "inet" and change.new is not LinkState.UP:
                self.inet_keeps = False
            self._seen(change.link == "mpls" and change.new is not LinkState.UP,
                       functools.partial(report, change))  # fmt: skip

        def figures(probed: LinkHealth) -> None:
            if probed.name == "inet":
                self.inet_keeps = probed.state is LinkState.UP and not breaks_sla(probed)
            self._seen(probed.name == "mpls" and breaks_sla(probed),
                       functools.partial(measured, probed))  # fmt: skip

        return real_prober(namespace, links, reported, figures)

    def _seen(self, broken: bool, feed: Callable[[], None]) -> None:
        now = time.monotonic()
        feed()  # the glue feeds the steerer: a move happens within
        with self._lock:
            if not self.armed or self.driver is None:
                return
            if broken and self.broken_at is None:
                self.broken_at = now
            if self.broken_at is not None and self.movable_at is None and self.inet_keeps:
                self.movable_at = now
            if self.moved_at is None and self.driver.routes_now().get("voice") != ["mpls"]:
                self.moved_at = time.monotonic()


def breaks_sla(probed: LinkHealth) -> bool:
    figures = probed.figures
    loss = figures.loss_pct if figures.window_full else None
    return (figures.latency_ms or 0) > MAX_LATENCY_MS or (loss or 0) > MAX_LOSS


@dataclass
class Bench:
    lab: WanLab
    faults: Faults
    driver: LinuxDriver
    watch: SlaWatch
    host: str
    deadline: Deadline
    rate: float
    verbose: bool = False
    applied: list[float] = field(default_factory=list)  # µs, each move's application

    async def note_applied(self) -> None:
        took = (await wan(self.driver)).get("last_move_us")
        if took is not None:
            self.applied.append(float(took))


def site(lab: WanLab) -> DesiredState:
    steering = {
        "classes": [{"name": "voice", "protocol": "udp", "ports": [SIP]}],
        "sla_profiles": [{"name": "voice", "max_latency_ms": MAX_LATENCY_MS,
                          "max_loss_percent": MAX_LOSS}],
        "policies": [{"class": "voice", "links": ["mpls", "inet"], "sla": "voice"}],
        "default_links": ["inet"], "hold_s": 0,
    }  # fmt: skip
    return lab.state(steering, probe={"hold_s": 0})


async def wan(driver: LinuxDriver) -> dict[str, Any]:
    return dict((await driver.observe()).wan.counters)


async def until(check: Callable[[], bool], within: float, deadline: Deadline) -> float | None:
    """Seconds until `check()` holds (every 20 ms), None after `within` or the deadline."""
    start = time.monotonic()
    while time.monotonic() - start < min(within, max(deadline.left(), 0)):
        if check():
            return time.monotonic() - start
        await asyncio.sleep(0.02)
    return None


async def ready(bench: Bench, within: float = 30) -> bool:
    """Voice on MPLS and MPLS probed up (its window as it is)."""

    async def check() -> bool:
        report = await wan(bench.driver)
        on_mpls = report.get("routes", {}).get("voice") == ["mpls"]
        return bool(on_mpls and report.get("probes", {}).get("mpls", {}).get("state") == "up")

    start = time.monotonic()
    while time.monotonic() - start < min(within, max(bench.deadline.left(), 0)):
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


async def window_full(bench: Bench, *, clean: bool = False) -> bool:
    """MPLS's loss window is full (and, if `clean`, holds at most 1% misses: the last run's
    misses have left it, so that runs are independent)."""

    async def full() -> bool:
        probes = (await wan(bench.driver)).get("probes", {}).get("mpls", {})
        loss = probes.get("loss_percent")
        if clean and (loss is None or loss > CLEAN_LOSS):
            return False
        return int(probes.get("loss_window", 0)) >= WINDOW

    start = time.monotonic()
    while time.monotonic() - start < min(150, max(bench.deadline.left(), 0)):
        if await full():
            return True
        await asyncio.sleep(0.5)
    return False


async def gap_run(bench: Bench, run: int, breaks: Callable[[], object]) -> float | None:
    result = await asyncio.to_thread(
        stream_gap, bench.lab, bench.host, SIP, seconds=1.5, rate=bench.rate, during=breaks,
        source_port=41_000 + run,
    )  # fmt: skip
    return result.max_gap_ms if result.received else None


async def move_run(
    bench: Bench, breaks: Callable[[], object], within: float
) -> tuple[float, float, float] | None:
    """(s from the fault to the move, ms from the broken SLA to the move, ms from the moment a
    move was due — the SLA broken and the internet link keeping it — to the move), None: no
    move. A move is due only then: with no compliant link, voice stays on the one it has."""
    bench.watch.arm()
    started = time.monotonic()
    breaks()
    watch = bench.watch
    seen = len(watch.changes)
    if await until(lambda: watch.moved_at is not None, within, bench.deadline) is None:
        return None
    assert watch.moved_at is not None
    if bench.verbose:
        marks = [f"SLA broken +{(watch.broken_at or started) - started:.2f} s",
                 f"moved +{watch.moved_at - started:.2f} s"]  # fmt: skip
        marks += [f"{c.old.value}->{c.new.value} +{c.at - started:.2f} s ({c.reason})"
                  for c in watch.changes[seen:]]  # fmt: skip
        print("  run: " + "; ".join(marks), file=sys.stderr, flush=True)
    broken = watch.broken_at if watch.broken_at is not None else watch.moved_at
    due = watch.movable_at if watch.movable_at is not None else watch.moved_at
    return (watch.moved_at - started, (watch.moved_at - broken) * 1000,
            (watch.moved_at - due) * 1000)  # fmt: skip


def gap_line(name: str, gaps: list[float]) -> str:
    return (f"{name}: p50 {statistics.median(gaps):.0f} ms, max {max(gaps):.0f} ms "
            f"({len(gaps)} runs)")  # fmt: skip


def move_line(name: str, moves: list[tuple[float, float, float]], since: str) -> str:
    after = [m[0] for m in moves]
    sla = [m[1] for m in moves]
    due = [m[2] for m in moves]
    waited = sum(1 for m in moves if m[1] - m[2] > 1)
    return (f"{name}: moved p50 {statistics.median(after):.1f} s, max {max(after):.1f} s after "
            f"{since}; after the SLA broke p50 {statistics.median(sla):.1f} ms, max "
            f"{max(sla):.1f} ms; after a move was due (SLA broken, internet compliant) p50 "
            f"{statistics.median(due):.1f} ms, max {max(due):.1f} ms; {waited} of "
            f"{len(moves)} runs waited for the internet link to keep the SLA")  # fmt: skip


async def gap_scenario(bench: Bench, name: str, runs: int, breaks: Callable[[], object],
                       mends: Callable[[], object]) -> bool:  # fmt: skip
    gaps: list[float] = []
    for run in range(runs):
        if bench.deadline.expired:
            print(f"warning: {name}: time is up after {run} runs", file=sys.stderr)
            break
        if not await ready(bench):
            print(f"error: {name}: voice is not on a healthy MPLS", file=sys.stderr)
            return False
        gap = await gap_run(bench, run, breaks)
        await bench.note_applied()
        mends()
        if gap is None:
            print(f"error: {name}: run {run}: nothing arrived", file=sys.stderr)
            return False
        gaps.append(gap)
    if gaps:
        print(gap_line(name, gaps), flush=True)
    return True


async def move_scenario(
    bench: Bench,
    name: str,
    runs: int,
    breaks: Callable[[], object],
    mends: Callable[[], object],
    since: str,
    within: float,
) -> bool:
    moves: list[tuple[float, float, float]] = []
    for run in range(runs):
        if bench.deadline.expired:
            print(f"warning: {name}: time is up after {run} runs", file=sys.stderr)
            break
        ready_in = 150 if "loss" in name else 30  # the misses leave the loss window first
        loss = "loss" in name
        if not await ready(bench, ready_in) or (loss and not await window_full(bench, clean=True)):
            print(f"warning: {name}: voice is not back on a healthy MPLS: {run} runs",
                  file=sys.stderr)  # fmt: skip
            break
        found = await move_run(bench, breaks, within)
        await bench.note_applied()
        mends()
        if found is None:
            print(f"warning: {name}: run {run}: voice did not move in {within:g} s",
                  file=sys.stderr)  # fmt: skip
            continue
        moves.append(found)
    bench.watch.armed = False
    if moves:
        print(move_line(name, moves, since), flush=True)
    return True


async def flap(bench: Bench, minutes: float) -> None:
    if not await ready(bench) or not await window_full(bench):
        print("error: flap: MPLS is not up with a full loss window", file=sys.stderr)
        return
    before = (await wan(bench.driver))["moves"]
    changes = len(bench.watch.changes)
    bench.faults.loss("mpls", 2)
    end = time.monotonic() + 60 * minutes
    left_mpls = 0
    while time.monotonic() < end and not bench.deadline.expired:
        if bench.driver.routes_now().get("voice") != ["mpls"]:
            left_mpls += 1
        await asyncio.sleep(0.5)
    bench.faults.mend("mpls")
    report = await wan(bench.driver)
    probes = report["probes"]["mpls"]
    print(f"flap: 2% random loss on MPLS for {minutes:g} min, voice SLA {MAX_LOSS}%: "
          f"{report['moves'] - before} moves, {len(bench.watch.changes) - changes} link state "
          f"changes (probes {probes['sent']}, lost {probes['lost']}, loss over the window at "
          f"the end {probes['loss_percent']}%)", flush=True)  # fmt: skip


async def measure(args: argparse.Namespace, deadline: Deadline) -> int:
    lab = WanLab(prefix="b" + secrets.token_hex(2))
    print(f"lab prefix: {lab.prefix}", file=sys.stderr, flush=True)
    runtime = Path(tempfile.mkdtemp(prefix="sdwan-bench-"))
    driver: LinuxDriver | None = None
    faults = Faults(lab, runtime)
    watch = SlaWatch()
    try:
        lab.start()
        driver = LinuxDriver(lab.site, runtime, probers=watch.factory)
        watch.driver = driver
        results = await apply_plan(driver, plan(site(lab), await driver.observe()))
        failed = [f"{r.change}: {r.error}" for r in results if r.failed]
        if failed:
            print(f"error: the site did not build: {failed}", file=sys.stderr)
            return 1
        attachment = await driver.attachment("svc-1")
        assert attachment is not None
        host = lab.add_host("h1", attachment).namespace
        bench = Bench(lab, faults, driver, watch, host, deadline, args.rate, args.verbose)
        wanted = args.scenarios
        ok = True
        if "carrier" in wanted:
            ok &= await gap_scenario(bench, "carrier loss", args.runs,
                                     lambda: lab.cut("mpls"),
                                     lambda: lab.cut("mpls", down=False))  # fmt: skip
        if "blackout" in wanted:
            ok &= await gap_scenario(bench, "silent blackout", args.runs,
                                     lambda: faults.blackout("mpls"),
                                     lambda: faults.mend("mpls"))  # fmt: skip
        if "delay" in wanted:
            ok &= await move_scenario(
                bench, "brownout (delay)", args.runs, lambda: faults.delay("mpls", args.delay),
                lambda: faults.mend("mpls"), "the delay began to grow (60 ms/s)", within=20,
            )  # fmt: skip
        if "loss" in wanted:
            ok &= await move_scenario(
                bench, "brownout (loss)", args.runs, lambda: faults.loss("mpls", args.loss),
                lambda: faults.mend("mpls"), f"{args.loss}% loss began", within=120,
            )  # fmt: skip
        if bench.applied:
            print(f"decision applied (map elements + conntrack + route): p50 "
                  f"{statistics.median(bench.applied):.0f} µs, p90 "
                  f"{percentile(bench.applied, 90):.0f} µs", flush=True)  # fmt: skip
        if args.flap_minutes > 0:
            await flap(bench, args.flap_minutes)
        return 0 if ok else 1
    finally:
        faults.close()
        if driver is not None:
            await driver.close()
        stop_processes(runtime)
        lab.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per scenario (default 20)")
    parser.add_argument("--rate", type=float, default=1000.0, help="packets per second")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for it all")
    parser.add_argument("--scenarios", default=",".join(SCENARIO_NAMES),
                        help=f"comma-separated, of {', '.join(SCENARIO_NAMES)}")  # fmt: skip
    parser.add_argument("--loss", type=int, default=10, help="brownout loss, %% (default 10)")
    parser.add_argument("--delay", type=float, default=120.0, help="brownout delay, ms")
    parser.add_argument("--flap-minutes", type=float, default=0.0)
    parser.add_argument("--verbose", action="store_true",
                        help="each brownout run's timeline on stderr")  # fmt: skip
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in args.scenarios if s not in SCENARIO_NAMES]
    if (not 1 <= args.runs <= 1000 or not 10 <= args.rate <= 20_000 or args.timeout <= 0
            or unknown or not 1 <= args.loss <= 99 or not 0 < args.delay <= 2000
            or args.flap_minutes < 0):  # fmt: skip
        print("error: --runs 1..1000, --rate 10..20000, --timeout > 0, --loss 1..99, --delay "
              f"0..2000, --flap-minutes >= 0, --scenarios of {','.join(SCENARIO_NAMES)}"
              + (f" (not {','.join(unknown)})" if unknown else ""), file=sys.stderr)  # fmt: skip
        return 2
    deadline = Deadline(args.timeout + 60 * args.flap_minutes)
    return guarded(lambda: asyncio.run(measure(args, deadline)))


if __name__ == "__main__":
    sys.exit(main())
