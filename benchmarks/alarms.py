"""Alarms: how soon the central raises them, and no storm when many sites go at once.

Usage: python benchmarks/alarms.py [--sites 1000] [--links 5] [--timeout S]
       python benchmarks/alarms.py --real N   (root: real sites in namespaces, N runs)

A fresh central (child process, SQLite) with short poll holds (EDGEWISE_POLL_HOLD=1,2) and
EDGEWISE_ALARM_OFFLINE_HOLDS=1: a site is offline once it has not polled for 1 hold of 2 s plus
the 5 s the channel takes to write "heard from" marks, i.e. 7 s. Measured:
- link down: a probe site (enrolled with the real CLI) reports its link down over the real
  mTLS channel, --links times (each followed by the link back up); from the report's POST to
  the LINK_DOWN alarm in the store (p50, max);
- N sites offline at once: N simulated sites (`edgewise simulate`'s workers: real site
  controllers, sim driver, real channel) polling, then their worker processes killed at once.
  From the kill to each site's SITE_OFFLINE alarm in the store (p50, max): the threshold, 7 s
  from the site's last "heard from" mark (written every 5 s: up to 5 s after its last poll),
  plus the sweep's pace (at most every 2 s), so 7-14 s by design; and the time until all N
  are raised; how many alarms of each kind the phase raised (exactly N, all
  roots, is no storm); notifications written to the outbox (the nsfm part of issue 14 writes
  them; 0 before it lands); the central's CPU over the phase.
The store is read read-only from outside the central, as an operator's tool would.

`--real N` measures instead, N times, the end-to-end scenario of tests/integration/
alarms_real.py: a real linux site controller in namespaces, a WAN link's carrier lost, a
process VNF killed (its restart failing, then mended), the controller SIGKILLed and started
again; from each fault to its alarm raised or cleared in GET /nsfm/v1/alarms (p50, max).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from bench_central import Central, console, cpu_seconds, guarded

from edgewise.lab.errors import LabError, PhaseTimeout
from edgewise.lab.simulator.fleet import Fleet, default_workers
from edgewise.lab.simulator.report import progress_bars
from edgewise.lab.simulator.simulation import Simulation
from edgewise.site.journal import Journal, OutboxItem
from edgewise.site.uplink import Uplink

ENV = {"EDGEWISE_POLL_HOLD": "1,2", "EDGEWISE_ALARM_OFFLINE_HOLDS": "1"}
THRESHOLD_S = 1 * 2 + 5  # offline_holds x the longest hold + the marks' slack
POLL_S = 0.02  # how often the store is read while waiting for an alarm


@dataclass
class Figures:
    sites: int
    link_down: list[float] = field(default_factory=list)
    offline: list[float] = field(default_factory=list)  # stop -> each site's alarm, s
    all_raised_s: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)  # alarms the phase raised, by kind
    roots: int = 0
    outbox: int = 0
    cpu_s: float = 0.0


@contextlib.contextmanager
def store(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        yield connection
    finally:
        connection.close()


def moment(text: str) -> datetime:
    """A time as SQLite keeps it (naive UTC)."""
    found = datetime.fromisoformat(text)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def enroll_probe(api: httpx.Client, tenant: str, data_dir: Path) -> str:
    made = api.post("api/v1/sites", json={"name": "probe", "kind": "on-premise",
                                          "tenantId": tenant})  # fmt: skip
    if made.status_code != 201:
        raise LabError(f"creating the probe site failed: {made.text[:200]}")
    info = api.get("api/v1/central").json()
    ca_file = data_dir.parent / "ca.pem"
    ca_file.write_text(info["caCertificate"])
    done = subprocess.run(
        [sys.executable, "-m", "edgewise", "site-controller", "enroll", "--central",
         info["southboundUrl"], "--token", made.json()["enrollmentToken"]["token"],
         "--data-dir", str(data_dir), "--ca-file", str(ca_file)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise LabError(f"enrolling the probe site failed: {done.stderr[-300:]}")
    site_id: str = made.json()["id"]
    return site_id


async def link_down(central: Central, data_dir: Path, site_id: str, times: int) -> list[float]:
    """Report the link down (and up again) `times` times; each: POST -> alarm in the store."""
    with Journal.open(data_dir / "journal.db") as journal:
        identity = journal.identity()
    if identity is None:
        raise LabError("the probe site has no identity")
    uplink = Uplink(identity)
    found: list[float] = []
    try:
        for _ in range(times):
            for old, state in (("up", "down"), ("down", "up")):
                body: dict[str, Any] = {
                    "event": "link-state", "link": "wan0", "from": old, "to": state,
                    "reason": "benchmark", "figures": {},
                }  # fmt: skip
                item = OutboxItem(str(uuid.uuid4()), "event", datetime.now(UTC).isoformat(), body)
                started = time.monotonic()
                await uplink.send_reports([item])
                want = 1 if state == "down" else 0
                await until(functools.partial(has_link_alarms, central.data_dir, site_id, want), 10)
                if state == "down":
                    found.append(time.monotonic() - started)
    finally:
        await uplink.close()
    return found


def has_link_alarms(data_dir: Path, site_id: str, count: int) -> bool:
    with store(data_dir / "edgewise.db") as db:
        row = db.execute(
            "SELECT count(*) FROM alarms WHERE kind = 'LINK_DOWN' AND site_id = ? "
            "AND active_key IS NOT NULL",
            (site_id,),
        ).fetchone()
    return int(row[0]) == count


async def until(check: Callable[[], bool], bound: float) -> None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(POLL_S)
    raise LabError(f"not seen within {bound:.0f} s")


async def storm(central: Central, sites: int, bound: float, figures: Figures) -> None:
    fleet = Fleet(central.data_dir.parent)
    headers = {"Authorization": f"Bearer {central.token()}"}
    async with httpx.AsyncClient(base_url=central.url, headers=headers, timeout=300) as api:
        try:
            with progress_bars(console) as progress:
                simulation = Simulation(api, progress, fleet, sites=sites,
                                        workers=default_workers(sites), timeout=bound)  # fmt: skip
                await simulation.setup()
        except BaseException:
            await fleet.stop()
            raise
        cpu_before = cpu_seconds(central.pid)
        silent_at = datetime.now(UTC)
        stopped = time.monotonic()
        for process in fleet.processes:  # our own workers: every site silent at this moment
            process.kill()
        await fleet.stop()
        ours = set(simulation.site_ids)
        deadline = stopped + THRESHOLD_S + bound
        raised: dict[str, datetime] = {}
        with progress_bars(console) as progress:
            task = progress.add_task("SITE_OFFLINE raised", total=sites)
            while len(raised) < sites and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                raised = offline_alarms(central.data_dir, ours)
                progress.update(task, completed=len(raised))
        figures.all_raised_s = time.monotonic() - stopped
        figures.cpu_s = cpu_seconds(central.pid) - cpu_before
        if len(raised) < sites:
            raise PhaseTimeout(f"{len(raised)}/{sites} SITE_OFFLINE within the bound",
                               len(raised), sites)  # fmt: skip
        figures.offline = [(at - silent_at).total_seconds() for at in raised.values()]
        since = silent_at.replace(tzinfo=None).isoformat(sep=" ")
        with store(central.data_dir / "edgewise.db") as db:
            figures.kinds = dict(db.execute(
                "SELECT kind, count(*) FROM alarms WHERE raised_at >= ? GROUP BY kind", (since,)
            ).fetchall())  # fmt: skip
            figures.roots = db.execute(
                "SELECT count(*) FROM alarms WHERE raised_at >= ? AND is_root_cause", (since,)
            ).fetchone()[0]
            figures.outbox = db.execute(
                "SELECT count(*) FROM notifications WHERE created_at >= ?", (since,)
            ).fetchone()[0]


def offline_alarms(data_dir: Path, sites: set[str]) -> dict[str, datetime]:
    with store(data_dir / "edgewise.db") as db:
        rows = db.execute(
            "SELECT site_id, raised_at FROM alarms WHERE kind = 'SITE_OFFLINE' "
            "AND active_key IS NOT NULL"
        ).fetchall()
    return {site: moment(at) for site, at in rows if site in sites}


def measure(sites: int, links: int, bound: float) -> Figures:
    figures = Figures(sites)
    with tempfile.TemporaryDirectory(prefix="ewbench-alarms-") as scratch:
        central = Central(Path(scratch) / "central", env=ENV)
        try:
            central.start()
            console.print(f"central pid {central.pid} at {central.url}; {sites} sites")
            headers = {"Authorization": f"Bearer {central.token()}"}
            with httpx.Client(base_url=central.url, headers=headers, timeout=60) as api:
                tenant = api.post("api/v1/tenants", json={"name": "probe"}).json()["id"]
                probe_dir = Path(scratch) / "probe"
                probe = enroll_probe(api, tenant, probe_dir)
                figures.link_down = asyncio.run(link_down(central, probe_dir, probe, links))
                api.delete(f"api/v1/sites/{probe}")  # it would go offline during the storm
            asyncio.run(storm(central, sites, bound, figures))
            problems = central.log_problems()
            if problems["Traceback"]:
                console.print(f"[red]the central logged {problems['Traceback']} tracebacks: "
                              f"{central.log_path}")  # fmt: skip
        finally:
            central.stop()
    return figures


def spread(values: list[float]) -> str:
    if not values:
        return "- / -"
    return f"{statistics.median(values):.2f} / {max(values):.2f}"


def show(f: Figures) -> None:
    n = f.sites
    print(f"link down -> LINK_DOWN in the store p50/max: {spread(f.link_down)} s "
          f"({len(f.link_down)} reports)")  # fmt: skip
    print(f"[{n} sites] silent -> SITE_OFFLINE in the store p50/max: {spread(f.offline)} s "
          f"(by design {THRESHOLD_S}-{THRESHOLD_S + 7} s; all {len(f.offline)} seen within "
          f"{f.all_raised_s:.2f} s)")  # fmt: skip
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(f.kinds.items())) or "none"
    print(f"[{n} sites] alarms raised by the phase: {sum(f.kinds.values())} ({kinds}); "
          f"roots: {f.roots}")  # fmt: skip
    print(
        f"[{n} sites] notifications written to the outbox: {f.outbox} "
        "(0 until the nsfm part of issue 14 lands)"
    )
    print(f"[{n} sites] central CPU from the silence to the last alarm: {f.cpu_s:.2f} s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--links", type=int, default=5, help="link down reports to time")
    parser.add_argument("--timeout", type=float, default=180.0, help="bound of each phase, s")
    parser.add_argument("--real", type=int, default=0, metavar="N",
                        help="instead: real sites' faults to alarms, N runs (root)")  # fmt: skip
    args = parser.parse_args(argv)
    return guarded(real, args) if args.real else guarded(run, args)


def real(args: argparse.Namespace) -> int:
    """`--real N`: the end-to-end scenario N times, each figure's p50 and max."""
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)  # the scenario lives with the tests
    from tests.integration.alarms_real import measure
    from tests.site.drivers.netlab import can_build_namespaces

    why = can_build_namespaces()
    if why:
        print(f"error: --real {why}", file=sys.stderr)
        return 1
    runs: dict[str, list[float]] = {}
    for _ in range(args.real):
        with tempfile.TemporaryDirectory(prefix="alarms-real-") as work:
            for name, value in measure(Path(work)).items():
                runs.setdefault(name, []).append(value)
    for name, values in runs.items():
        unit = "B" if "bytes" in name else "s"
        print(f"real site: {name} p50/max: {spread(values)} {unit} ({len(values)} runs)")
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        figures = measure(args.sites, args.links, args.timeout)
    except PhaseTimeout as exc:
        print(f"error: {exc.message}")
        return 1
    show(figures)
    storm_free = figures.kinds == {"SITE_OFFLINE": args.sites} and figures.roots == args.sites
    return 0 if storm_free else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
