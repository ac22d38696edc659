"""Channel at scale: one change touching every site, from the API call to the last report.

Usage: python benchmarks/channel_scale.py [--sites 1000 10000] [--workers K] [--timeout S]

For each N: a fresh central (child process, SQLite), N simulated sites (`edgewise simulate`'s
workers: real site controllers, sim driver, real mTLS channel) on the same machine; once every
site's long-poll is parked, one bulk desired-state write through the API. Measured:
- received: API call -> each site has the new revision (p50, p99, max);
- applied and recorded: API call -> the central acknowledged the site's status report of it;
- central peak RSS (VmHWM over its whole life, enrollment included) and RSS after the wave;
- central CPU seconds during the wave (/proc/<pid>/stat, API call -> last acknowledgement);
- requests per second served during the wave, counted by the simulator: every poll answer and
  report answer (including error statuses) its sites received, over the same window;
- connections the sites opened during the wave (each a TLS handshake at the central; ideally
  none: a site's report reuses the connection its poll just released).
When the wave is only partly recorded within --timeout, the figures are over the sites that
were, followed by how many were not and where each of those was stuck (never woke, woke but
report not sent, report sent but not acknowledged), with their last errors; exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from bench_central import VARIANTS, Central, console, cpu_seconds, guarded, proc_status
from rich.console import Console
from rich.table import Table

from edgewise.lab.errors import LabError, PhaseTimeout
from edgewise.lab.simulator.fleet import Fleet, default_workers
from edgewise.lab.simulator.report import percentile, progress_bars, stuck_lines
from edgewise.lab.simulator.simulation import Simulation
from edgewise.lab.simulator.waves import Stuck
from edgewise.lab.simulator.worker import BUCKET


@dataclass
class Figures:
    sites: int
    workers: int
    write_s: float
    received: list[float]
    done: list[float]
    peak_rss_mb: float
    rss_after_mb: float
    cpu_s: float
    requests: int
    connections: int
    errors: int
    error_kinds: Counter[str] = field(default_factory=Counter)
    setup_errors: int = 0
    bound: float = 0.0
    stuck: dict[str, Stuck] = field(default_factory=dict)

    @property
    def wave_s(self) -> float:
        return max(self.done, default=0.0)

    @property
    def rps(self) -> float:
        return self.requests / self.wave_s if self.wave_s else 0.0


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p50, p99 = statistics.median(ordered), percentile(ordered, 0.99)
    return f"{p50:.2f} / {p99:.2f} / {ordered[-1]:.2f}"


def start_profiler(pid: int, out: Path | None) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the central (raw folded stacks) for the duration of the wave."""
    if out is None:
        return None
    beside = Path(sys.executable).parent / "py-spy"
    spy_bin = str(beside) if beside.exists() else "py-spy"
    command = [spy_bin, "record", "-p", str(pid), "-f", "raw", "-r", "200", "--nonblocking",
               "-o", str(out)]  # fmt: skip
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached
    return spy


def stop_profiler(spy: subprocess.Popen[bytes] | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)


async def measure(
    central: Central, sites: int, workers: int, bound: float, profile: Path | None
) -> Figures:
    fleet = Fleet(central.data_dir.parent)
    headers = {"Authorization": f"Bearer {central.token()}"}
    async with httpx.AsyncClient(base_url=central.url, headers=headers, timeout=300) as api:
        try:
            with progress_bars(console) as progress:
                simulation = Simulation(
                    api, progress, fleet, sites=sites, workers=workers, timeout=bound
                )
                await simulation.setup()
                spy = start_profiler(central.pid, profile)
                try:
                    cpu_before = cpu_seconds(central.pid)
                    before = Counter(fleet.errors)  # while the sites enrolled and connected
                    wave = await simulation.write_change(1)
                    with contextlib.suppress(PhaseTimeout):  # partial: figures and who is stuck
                        await simulation.follow(wave)
                    cpu_used = cpu_seconds(central.pid) - cpu_before
                    errors = fleet.errors - before  # not what stopping the sites causes
                finally:
                    stop_profiler(spy)
        finally:
            await fleet.stop()
    status = proc_status(central.pid)
    end = wave.started + wave.finished + BUCKET
    return Figures(
        sites=sites,
        workers=workers,
        write_s=wave.written,
        received=list(wave.received.values()),
        done=list(wave.done.values()),
        peak_rss_mb=status["VmHWM"] / 1024,
        rss_after_mb=status["VmRSS"] / 1024,
        cpu_s=cpu_used,
        requests=fleet.requests_between(wave.started, end),
        connections=fleet.connections_between(wave.started, end),
        errors=sum(errors.values()),
        error_kinds=errors,
        setup_errors=sum(before.values()),
        bound=bound,
        stuck=wave.stuck,
    )


def run_one(
    sites: int, workers: int | None, timeout: float, profile: Path | None, variant: str
) -> Figures:
    chosen = workers or default_workers(sites)
    with tempfile.TemporaryDirectory(prefix="ewbench-scale-") as scratch:
        central = Central(Path(scratch) / "central", variant=variant)
        try:
            central.start()
            console.print(f"central ({variant}) pid {central.pid} at {central.url}; {sites} sites, "
                          f"{chosen} simulator workers")  # fmt: skip
            return asyncio.run(measure(central, sites, chosen, timeout, profile))
        finally:
            central.stop()


def show(results: list[Figures], *, lines: bool = True) -> None:
    table = Table(title="one change touching every site (p50 / p99 / max, s from the API call)")
    for column in ("sites", "API write s", "received", "applied+recorded", "central peak RSS MB",
                   "RSS after MB", "central CPU s", "requests/s", "wave errors"):  # fmt: skip
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            str(r.sites), f"{r.write_s:.2f}", spread(r.received), spread(r.done),
            f"{r.peak_rss_mb:.0f}", f"{r.rss_after_mb:.0f}", f"{r.cpu_s:.2f}",
            f"{r.rps:.0f}", str(r.errors),
        )  # fmt: skip
    Console(width=160).print(table)
    for r in results if lines else ():
        n = r.sites
        print(f"[{n} sites] API write (bulk desired state): {r.write_s:.2f} s")
        print(f"[{n} sites] received p50/p99/max: {spread(r.received)} s "
              f"({len(r.received)}/{n})")  # fmt: skip
        print(f"[{n} sites] applied and recorded p50/p99/max: {spread(r.done)} s "
              f"({len(r.done)}/{n})")  # fmt: skip
        print(f"[{n} sites] central peak RSS (VmHWM): {r.peak_rss_mb:.0f} MB; "
              f"after the wave (VmRSS): {r.rss_after_mb:.0f} MB")  # fmt: skip
        print(f"[{n} sites] central CPU during the wave: {r.cpu_s:.2f} s "
              f"over {r.wave_s:.2f} s wall")  # fmt: skip
        print(f"[{n} sites] requests served during the wave (counted by the simulator): "
              f"{r.requests} = {r.rps:.0f} requests/s")  # fmt: skip
        print(f"[{n} sites] connections opened by the sites during the wave (TLS handshakes): "
              f"{r.connections}")  # fmt: skip
        print(f"[{n} sites] errors seen by the sites during the wave: {r.errors} "
              f"(before it, while they enrolled and connected: {r.setup_errors})")  # fmt: skip
        for kind, count in r.error_kinds.most_common(8):
            print(f"[{n} sites]     {count:6d}  {kind}")
        if r.stuck:
            print(f"[{n} sites] not recorded within {r.bound:.0f} s: {len(r.stuck)}/{n}")
            for line in stuck_lines(r.stuck):
                print(f"[{n} sites]     {line}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sites", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=None, help="simulator worker processes")
    parser.add_argument(
        "--central", choices=sorted(VARIANTS), default="stock",
        help="stock, or a prototype fix applied at the central's start-up (bench_central.py)",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=180.0, help="bound of each phase, s")
    parser.add_argument(
        "--profile", type=Path, default=None, help="py-spy raw profile of the central's wave"
    )
    return guarded(run, parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    results: list[Figures] = []
    failed = 0
    for n in args.sites:  # each size's figures are printed as soon as it is measured
        profile = args.profile.with_suffix(f".{n}.txt") if args.profile else None
        try:
            results.append(run_one(n, args.workers, args.timeout, profile, args.central))
        except LabError as exc:
            print(f"[{n} sites] error: {exc.message}")
            failed += 1
            continue
        show(results[-1:])
        failed += 1 if results[-1].stuck else 0
    if len(results) > 1:
        show(results, lines=False)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
