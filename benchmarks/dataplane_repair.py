"""Time for a running site controller to repair its data plane after drift, until traffic flows.

Usage (root): python benchmarks/dataplane_repair.py [--runs 5] [--timer-runs 1] [--services 1]
              [--timeout 240]

A real SiteController (no central: the desired state comes in through `accept`, as from its
journal) runs the linux driver in a lab whose namespaces carry a random `b` + 4 hex digits
prefix (all removed at the end, on error and on Ctrl-C). It holds one service: firewall ->
process VNF (`sleep`) -> NAT, with a LAN host and a TCP server on the internet host (and
`--services` - 1 firewall + NAT services beside it: a reconcile pass reads them all). Then, in
turn, something breaks it:
- namespace deleted: `ip netns del` of the firewall's namespace;
- link set down: `ip link set <leg> down` of the NAT's WAN-side leg, inside the NAT;
- ruleset flushed: `ip netns exec <nat> nft flush ruleset`;
- process killed: SIGKILL to the process VNF's program.
A repair is done when the broken part is mended (the VNF's namespace rebuilt, a new program
running, the leg up again, the ruleset back: the last two in place) and a TCP connection from
the LAN host through the chain works; the time is from
just before the breaking command starts (so it includes that command's own run).
First with the drift watch (the linux driver's `drift_events`, reconcile timer 5 s as the
backstop), then with the timer alone (the same driver without its drift watch), for reference:
there each break comes at a random point of the timer's period.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dataplane_common import Deadline, bench_lab, guarded, percentile
from tests.site.drivers.chains import vcpe, with_program
from tests.site.drivers.netlab import (
    INTERNET_HOST,
    Lab,
    connects,
    has_ruleset,
    in_ns,
    ip,
    link_up,
    prober,
    stop_processes,
)

from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.netns import namespace_inode
from edgewise.site.drivers.linux.processes import Supervisor
from edgewise.site.journal import Journal
from edgewise.site.reconcile import Change, ChangeResult, ObservedState

PORT = 8080
SID = "svc-repair"
BREAKAGES = ("namespace deleted", "link set down", "ruleset flushed", "process killed")
GOAL_S = 1.0
SETTLE_S = 0.5
WATCHED = "repair with the drift watch (reconcile timer 5 s as the backstop):"
TIMED = "repair on the 5 s reconcile timer alone (no drift watch), for reference:"


def service_document(services: int = 1) -> dict[str, Any]:
    """The repaired service, and `services` - 1 firewall + NAT services beside it."""
    return {"services": [with_program(SID), *(vcpe(f"svc-{n:03}") for n in range(services - 1))]}


class TimerOnly:
    """The linux driver without its drift watch: the controller finds drift on its timer."""

    def __init__(self, driver: LinuxDriver) -> None:
        self.driver = driver

    async def observe(self) -> ObservedState:
        return await self.driver.observe()

    async def apply(self, change: Change) -> ChangeResult:
        return await self.driver.apply(change)

    async def close(self) -> None:
        await self.driver.close()


class Bench:
    def __init__(self, lab: Lab, work: Path, deadline: Deadline) -> None:
        self.lab = lab
        self.runtime = work / "run"
        self.journal = work / "journal.db"
        self.deadline = deadline
        self.revision = 0
        self.driver: LinuxDriver | None = None
        self.namespaces: dict[str, str] = {}

    def controller(self, *, watch: bool) -> SiteController:
        self.driver = LinuxDriver(self.lab.site, self.runtime)
        plane = self.driver if watch else TimerOnly(self.driver)
        return SiteController(Journal.open(self.journal), plane, None, ControllerSettings())

    async def converge(self, site: SiteController, document: dict[str, Any]) -> None:
        self.revision += 1
        site.accept(self.revision, document)
        for _ in range(1000):
            if site.journal.applied_revision() == self.revision:
                return
            await asyncio.sleep(0.01)
        raise RuntimeError(f"revision {self.revision} was not applied within 10 s")

    async def lan_host(self) -> str:
        assert self.driver is not None
        attachment = await self.driver.attachment(SID)
        assert attachment is not None
        return self.lab.add_host("h1", attachment).namespace

    def program_pid(self) -> int | None:
        status = Supervisor(self.runtime).status(self.namespaces["app"])
        return status.pid if status is not None else None

    def break_it(self, breakage: str) -> Callable[[], bool]:
        """Breaks the chain; returns the check that the broken part is mended: rebuilt (a
        namespace deleted), restarted (a program killed), in place (a link down, a ruleset)."""
        fw, nat = self.namespaces["fw"], self.namespaces["nat"]
        if breakage == "process killed":
            pid = self.program_pid()
            assert pid is not None, "the process VNF's program does not run"
            os.kill(pid, signal.SIGKILL)
            return lambda: (new := self.program_pid()) is not None and new != pid
        if breakage == "namespace deleted":
            inode = namespace_inode(fw)
            ip("netns", "del", fw)
            return lambda: namespace_inode(fw) not in (None, inode)
        if breakage == "link set down":
            leg = next(name for name in self.lab.links(nat) if name.endswith("l"))
            ip("-n", nat, "link", "set", leg, "down")
            return lambda: link_up(nat, leg)
        in_ns(nat, "nft", "flush", "ruleset")
        return lambda: has_ruleset(nat)

    def measure(self, pool: ThreadPoolExecutor, breakage: str, bound: float) -> float | None:
        """Seconds from the break until the part is new and traffic flows; None past `bound`."""
        start = time.perf_counter()
        renewed = self.break_it(breakage)
        while time.perf_counter() - start < bound:
            if renewed() and pool.submit(connects, INTERNET_HOST, PORT, 0.02).result():
                return time.perf_counter() - start
            time.sleep(0.002)
        return None

    async def runs(
        self, site: SiteController, host: str, runs: int, *, bound: float, phase: float
    ) -> dict[str, list[float | None]]:
        """`runs` repairs of each kind, alternating the order; each break comes a random
        0..`phase` s after the chain is whole again (where it falls in the timer's period)."""
        found: dict[str, list[float | None]] = {b: [] for b in BREAKAGES}
        chance = random.Random(7)
        with prober(host) as pool:
            for number in range(runs):
                for breakage in BREAKAGES if number % 2 == 0 else BREAKAGES[::-1]:
                    if self.deadline.left() < bound + phase + 15:
                        print("time bound reached: fewer runs", file=sys.stderr)
                        return found
                    await self.quiet(pool)
                    await asyncio.sleep(chance.uniform(0, phase))
                    passes = site.passes
                    took = await asyncio.to_thread(self.measure, pool, breakage, bound)
                    await asyncio.sleep(SETTLE_S)
                    found[breakage].append(took)
                    shown = f"{took * 1000:.0f} ms" if took is not None else "not repaired"
                    print(
                        f"  {breakage}: {shown} ({site.passes - passes} reconcile passes)",
                        file=sys.stderr,
                        flush=True,
                    )
        return found

    async def quiet(self, pool: ThreadPoolExecutor) -> None:
        """Waits (10 s at most) until the chain is whole and carries traffic, then a moment."""
        assert self.driver is not None
        for _ in range(500):
            service = (await self.driver.view(SID)).services.get(SID)
            whole = service is not None and len(service.vnfs) == 3
            if whole and service is not None and all(v.healthy for v in service.vnfs.values()):
                self.namespaces = {name: vnf.namespace for name, vnf in service.vnfs.items()}
                probe = pool.submit(connects, INTERNET_HOST, PORT, 0.5)
                if await asyncio.wrap_future(probe):
                    break
            await asyncio.sleep(0.02)
        else:
            raise RuntimeError("the chain did not come back whole within 10 s")
        await asyncio.sleep(SETTLE_S)


def summary(label: str, found: dict[str, list[float | None]]) -> list[str]:
    lines = [label]
    for breakage, times in found.items():
        done = [t * 1000 for t in times if t is not None]
        failed = len(times) - len(done)
        if not done:
            lines.append(f"  {breakage:18} not repaired in {len(times)} runs")
            continue
        lines.append(
            f"  {breakage:18} p50 {statistics.median(done):6.0f} ms   max {max(done):6.0f} ms"
            f"   ({len(done)} runs{f', {failed} not repaired' if failed else ''})"
        )
    return lines


async def run(args: argparse.Namespace) -> int:
    deadline = Deadline(args.timeout)
    lab = bench_lab()
    results: list[tuple[str, dict[str, list[float | None]]]] = []
    with tempfile.TemporaryDirectory(prefix="edgewise-repair-") as temporary:
        bench = Bench(lab, Path(temporary), deadline)
        try:
            lab.start()
            lab.serve(lab.internet, PORT)
            host: str | None = None
            for watch, runs in ((True, args.runs), (False, args.timer_runs)):
                if runs <= 0:
                    continue
                async with bench.controller(watch=watch) as site:
                    await bench.converge(site, service_document(args.services))
                    host = host or await bench.lan_host()
                    print("drift watch:" if watch else "timer alone:", file=sys.stderr)
                    interval = site.settings.reconcile_interval
                    found = await bench.runs(
                        site,
                        host,
                        runs,
                        bound=4.0 if watch else interval + 5.0,
                        phase=0.0 if watch else interval,
                    )
                    results.append((WATCHED if watch else TIMED, found))
                    await bench.converge(site, service_document(args.services))
        finally:
            stop_processes(bench.runtime)
            lab.close()
    more = (
        f" ({args.services - 1} other firewall + NAT services on the site)"
        if args.services > 1
        else ""
    )
    print(f"site: 1 service firewall -> process -> NAT{more}")
    for label, found in results:
        print("\n".join(summary(label, found)))
    watched = dict(results).get(WATCHED)
    if watched is not None:
        every = [t for times in watched.values() for t in times]
        done = [t for t in every if t is not None]
        if done and len(done) == len(every):
            worst = max(done)
            verdict = "met" if worst <= GOAL_S else "NOT met"
            print(
                f"goal: repair <= {GOAL_S:.0f} s with the drift watch: p99 "
                f"{percentile(done, 99) * 1000:.0f} ms, worst {worst * 1000:.0f} ms ({verdict})"
            )
        else:
            print(f"goal: repair <= {GOAL_S:.0f} s with the drift watch: NOT met (runs failed)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="repairs of each kind, drift watch")
    parser.add_argument("--services", type=int, default=1, help="services on the site (1 + others)")
    parser.add_argument("--timer-runs", type=int, default=1, help="the same on the timer alone")
    parser.add_argument("--timeout", type=float, default=240.0, help="bound on the whole run (s)")
    args = parser.parse_args()
    return guarded(lambda: asyncio.run(run(args)))


if __name__ == "__main__":
    raise SystemExit(main())
