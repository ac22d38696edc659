"""Central `kill -9` and restart with N connected sites: how long until all are back in sync.

Usage: python benchmarks/channel_restart.py [--sites 10000] [--workers K] [--timeout S]

A central (child process, SQLite, fixed ports) and N simulated sites (`edgewise simulate`'s
workers) that all hold revision 1 and have their long-polls parked. Then SIGKILL the central
and start it again on the same data directory and ports; as soon as its API answers, write
revision 2 to every site. Times are from the kill:
- central answering again (process start to /health);
- reconnected: the site's first long-poll request after the kill went out (on a new
  connection: the old ones died with the central; the simulator traces each poll request);
- received revision 2, and in sync: the new central acknowledged the site's status report
  of revision 2 (p50, p99, max);
and the "error storm" check: every failed call the sites saw from the kill to the end, by
kind (they back off: capped exponential, full jitter), the central's ERROR / Traceback log
lines after the restart, and whether the central is still running.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from bench_central import VARIANTS, Central, console, guarded, proc_status
from channel_scale import spread

from edgewise.lab.simulator.fleet import Fleet, default_workers
from edgewise.lab.simulator.report import progress_bars
from edgewise.lab.simulator.simulation import Simulation


async def measure(
    central: Central, sites: int, workers: int, bound: float, settle: float
) -> list[str]:
    fleet = Fleet(central.data_dir.parent)
    headers = {"Authorization": f"Bearer {central.token()}"}
    lines: list[str] = []
    async with httpx.AsyncClient(base_url=central.url, headers=headers, timeout=300) as api:
        try:
            with progress_bars(console) as progress:
                simulation = Simulation(
                    api, progress, fleet, sites=sites, workers=workers, timeout=bound
                )
                await simulation.setup()
                await simulation.follow(await simulation.write_change(1), "in sync at revision 1")
                await asyncio.sleep(settle)  # every re-poll parked again
                errors_before = Counter(fleet.errors)
                killed = time.monotonic()
                fleet.polls_since(killed)
                central.kill9()
                up = await asyncio.to_thread(central.start)
                wave = await simulation.write_change(2)
                answered = time.monotonic() - killed
                await fleet.wait_for(
                    progress, "reconnected", sites,
                    lambda: len(fleet.first_polls), bound,
                )  # fmt: skip
                await simulation.follow(wave, "in sync at revision 2")
                errors = fleet.errors - errors_before  # not what stopping the sites causes
        finally:
            await fleet.stop()
    reconnected = [t - killed for t in fleet.first_polls.values()]
    shift = wave.started - killed
    received = [t + shift for t in wave.received.values()]
    done = [t + shift for t in wave.done.values()]
    alive = central.process is not None and central.process.poll() is None
    status = proc_status(central.pid) if alive else {}
    lines += [
        (
            f"[{sites} sites] central process start to API answering: {up:.2f} s "
            f"(revision 2 written {answered:.2f} s after the kill, in {wave.written:.2f} s)"
        ),
        (
            f"[{sites} sites] reconnected p50/p99/max: {spread(reconnected)} s "
            f"({len(reconnected)}/{sites})"
        ),
        (
            f"[{sites} sites] received revision 2 p50/p99/max: {spread(received)} s "
            f"({len(received)}/{sites})"
        ),
        (
            f"[{sites} sites] in sync (revision 2 recorded) p50/p99/max: {spread(done)} s "
            f"({len(done)}/{sites})"
        ),
        f"[{sites} sites] all in sync {max(done, default=0.0):.2f} s after the kill",
        (
            f"[{sites} sites] failed calls seen by the sites: {sum(errors.values())} "
            f"({sum(errors.values()) / sites:.2f} per site)"
        ),
    ]
    lines += [f"    {n:7d}  {kind}" for kind, n in errors.most_common(12)]
    logged: Counter[str] = Counter()  # the controllers' own warnings (each failed poll logs one)
    for log in fleet.work.glob("worker-*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if " poll: " in line or " poll refused: " in line:
                logged[line.split("(retrying")[0].split(": ", 3)[-1][:70]] += 1
    lines.append(f"[{sites} sites] poll warnings in the controllers' logs: {sum(logged.values())}")
    lines += [f"    {n:7d}  {kind}" for kind, n in logged.most_common(5)]
    lines += [
        (
            f"[{sites} sites] central after restart: "
            f"{'running' if alive else 'NOT RUNNING'}, log {central.log_problems()}, "
            f"peak RSS {status.get('VmHWM', 0) / 1024:.0f} MB"
        ),
    ]
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sites", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=None, help="simulator worker processes")
    parser.add_argument(
        "--central", choices=sorted(VARIANTS), default="stock",
        help="stock, or a prototype fix applied at the central's start-up (bench_central.py)",
    )  # fmt: skip
    parser.add_argument("--settle", type=float, default=2.0, help="wait before the kill, s")
    parser.add_argument("--timeout", type=float, default=180.0, help="bound of each phase, s")
    return guarded(run, parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    workers = args.workers or default_workers(args.sites)
    with tempfile.TemporaryDirectory(prefix="ewbench-restart-") as scratch:
        central = Central(Path(scratch) / "central", variant=args.central)
        try:
            central.start()
            console.print(f"central pid {central.pid} at {central.url}; {args.sites} sites, "
                          f"{workers} simulator workers")  # fmt: skip
            lines = asyncio.run(measure(central, args.sites, workers, args.timeout, args.settle))
        finally:
            central.stop()
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
