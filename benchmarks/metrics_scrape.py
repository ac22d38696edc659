"""`GET /metrics` at fleet scale: scrape time, body size and series of a real central.

Usage: python benchmarks/metrics_scrape.py [--sites 10000] [--links 4] [--scrapes 20]
       [--bounds 500 10000] [--class-share 0.25] [--vnf-share 0.5] [--database-url URL]

A fresh store (SQLite in a temporary directory unless --database-url names an empty PostgreSQL
database), migrated and filled in bulk: --sites enrolled sites of one tenant, each reporting
--links WAN links (a few down or degraded, figures spread); a --class-share of the sites carry
per-application-class counters on every link (4 classes), a --vnf-share have reported VNF
counters (a firewall's rules, a rate limiter's queues with drops). Then, for each bound of
--bounds, a real central (`edgewise server`, child process) with EDGEWISE_METRICS_SITE_SERIES
at that bound is started on the store and scraped over HTTP with the admin token, one warm-up
scrape and then --scrapes timed ones, one after another. Per bound: p50 / p99 / max scrape
time (client-side, request to last byte), body bytes, series (sample lines), whether the
per-site series were exposed (the bound at or over the sites reporting) and the central's CPU
per scrape. One line per figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from bench_central import Central, console, cpu_seconds, guarded
from sqlalchemy import insert

from edgewise.central.store.engine import migrate, open_engine
from edgewise.central.store.sdwan_tables import SiteLinkStateRow
from edgewise.central.store.tables import SiteCountersRow, SiteRow, TenantRow, new_id
from edgewise.lab.errors import LabError
from edgewise.lab.simulator.report import percentile

LINKS = ("mpls", "inet", "lte", "backup", "sat", "wan5", "wan6", "wan7")
CLASSES = ("voice", "video", "business", "default")
CHUNK = 2000  # rows per INSERT statement


@dataclass(frozen=True)
class Scrapes:
    bound: int
    times: list[float]
    body_bytes: int
    series: int
    detailed: bool
    cpu_s: float


def link_row(site: str, link: str, n: int, with_classes: bool, now: datetime) -> dict[str, Any]:
    state = "down" if n % 50 == 0 else "degraded" if n % 33 == 0 else "up"
    counters = (
        {c: {"packets": 1000 * (n % 97 + i), "bytes": 900_000 * (n % 89 + i)}
         for i, c in enumerate(CLASSES)}
        if with_classes else {}
    )  # fmt: skip
    return {"site_id": site, "name": link, "state": state, "latency_ms": 5.0 + n % 80,
            "loss_percent": (n % 7) / 10, "jitter_ms": 0.5 + n % 9, "counters": counters,
            "reported_at": now}  # fmt: skip


def vnf_body(n: int) -> dict[str, Any]:
    return {
        "services": {
            f"ns-{n % 3}": {
                "fw": {"rules": {f"rule-{r}": {"packets": n * r, "bytes": n * r * 100}
                                 for r in range(3)}},
                "shaper": {"queues": {q: {"packets": n, "bytes": n * 1200, "drops": n % 11}
                                      for q in ("lan", "wan")}},
            }
        }
    }  # fmt: skip


def chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def populate(url: str, sites: int, links: int, class_share: float, vnf_share: float) -> int:
    """Migrates and fills the store; returns how many sites report VNF counters."""
    engine = open_engine(url)
    try:
        migrate(engine)
        now = datetime.now(UTC)
        tenant = new_id()
        ids = [new_id() for _ in range(sites)]
        site_rows = [
            {"id": site, "tenant_id": tenant, "name": f"site-{n:05d}", "kind": "on-premise",
             "labels": {}, "compute_nodes": 1, "slots_per_node": 2, "created_at": now,
             "enrolled_at": now, "cert_serial": f"{n + 1:x}"}
            for n, site in enumerate(ids)
        ]  # fmt: skip
        classes_every = round(1 / class_share) if class_share > 0 else 0
        vnf_every = round(1 / vnf_share) if vnf_share > 0 else 0
        link_rows = [
            link_row(site, LINKS[k], n * links + k, bool(classes_every) and n % classes_every == 0,
                     now)
            for n, site in enumerate(ids)
            for k in range(links)
        ]  # fmt: skip
        counter_rows = [
            {"site_id": site, "at": now, "body": vnf_body(n)}
            for n, site in enumerate(ids)
            if vnf_every and n % vnf_every == 0
        ]
        with engine.begin() as connection:
            tenant_row = {"id": tenant, "name": "bench", "description": "", "created_at": now}
            connection.execute(insert(TenantRow), [tenant_row])
            for table, rows in (
                (SiteRow, site_rows),
                (SiteLinkStateRow, link_rows),
                (SiteCountersRow, counter_rows),
            ):
                for part in chunks(rows):
                    connection.execute(insert(table), part)
        return len(counter_rows)
    finally:
        engine.dispose()


def scrape(central: Central, bound: int, count: int) -> Scrapes:
    headers = {"Authorization": f"Bearer {central.token()}"}
    with httpx.Client(base_url=central.url, headers=headers, timeout=120) as api:
        api.get("metrics").raise_for_status()  # warm: the store's pages, the first query plans
        cpu_before = cpu_seconds(central.pid)
        times: list[float] = []
        answer = None
        for _ in range(count):
            started = time.monotonic()
            answer = api.get("metrics")
            times.append(time.monotonic() - started)
            if answer.status_code != 200:
                raise LabError(f"GET /metrics answered {answer.status_code}: {answer.text[:300]}")
        cpu_s = (cpu_seconds(central.pid) - cpu_before) / max(count, 1)
    assert answer is not None
    lines = answer.text.splitlines()
    series = sum(1 for line in lines if line and not line.startswith("#"))
    detailed = "edgewise_link_site_series 1.0" in lines
    return Scrapes(bound, times, len(answer.content), series, detailed, cpu_s)


def measure(args: argparse.Namespace, scratch: Path) -> list[Scrapes]:
    url = args.database_url or f"sqlite:///{scratch / 'central' / 'edgewise.db'}"
    (scratch / "central").mkdir()
    started = time.monotonic()
    counted = populate(url, args.sites, args.links, args.class_share, args.vnf_share)
    console.print(f"store filled in {time.monotonic() - started:.1f} s: {args.sites} sites, "
                  f"{args.sites * args.links} links, {counted} with VNF counters")  # fmt: skip
    found: list[Scrapes] = []
    for bound in args.bounds:
        env = {"EDGEWISE_METRICS_SITE_SERIES": str(bound)}
        if args.database_url:
            env["EDGEWISE_DATABASE_URL"] = args.database_url
        central = Central(scratch / "central", env=env)
        try:
            central.start()
            found.append(scrape(central, bound, args.scrapes))
            problems = central.log_problems()
            if problems["Traceback"]:
                console.print(f"[red]the central logged tracebacks: {central.log_path}")
        finally:
            central.stop()
    return found


def show(args: argparse.Namespace, store: str, found: list[Scrapes]) -> None:
    for s in found:
        ordered = sorted(s.times)
        where = "under" if s.detailed else "over"
        label = (f"[{args.sites} sites x {args.links} links, {store}, "
                 f"EDGEWISE_METRICS_SITE_SERIES={s.bound}: {where}]")  # fmt: skip
        print(f"{label} scrape p50/p99/max: {statistics.median(ordered) * 1000:.0f} / "
              f"{percentile(ordered, 0.99) * 1000:.0f} / {ordered[-1] * 1000:.0f} ms "
              f"({len(ordered)} scrapes)")  # fmt: skip
        print(f"{label} body: {s.body_bytes} bytes, {s.series} series, per-site series "
              f"{'exposed' if s.detailed else 'not exposed'}")  # fmt: skip
        print(f"{label} central CPU per scrape: {s.cpu_s * 1000:.0f} ms")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--links", type=int, default=4, choices=range(1, len(LINKS) + 1))
    parser.add_argument("--scrapes", type=int, default=20)
    parser.add_argument("--bounds", type=int, nargs="+", default=[500, 10_000],
                        help="EDGEWISE_METRICS_SITE_SERIES values, one central each")  # fmt: skip
    parser.add_argument("--class-share", type=float, default=0.25)
    parser.add_argument("--vnf-share", type=float, default=0.5)
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database")
    return guarded(run, parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    if args.scrapes < 1:
        raise LabError("--scrapes: at least 1")
    store = "postgresql" if args.database_url.startswith("postgresql") else "sqlite"
    with tempfile.TemporaryDirectory(prefix="ewbench-metrics-") as scratch:
        found = measure(args, Path(scratch))
    show(args, store, found)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
