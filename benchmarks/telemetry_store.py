"""The link telemetry history's cost: store growth per site per day, and report intake with
and without history.

Usage: python benchmarks/telemetry_store.py [--sites 20] [--links 4] [--minutes 1440]
       [--intake-sites 1000] [--rounds 5] [--database-url URL]

A fresh store (SQLite in a temporary directory unless --database-url names an empty
PostgreSQL database). Everything goes through the real intake path (`site_channel.
record_batches`, as the channel's intake writes many sites' batches in one transaction) and
the tracker's real rollup step (`telemetry_rollup.step`), on a simulated clock:

- growth: `--sites` sites, each with `--links` links, send one status a minute (every link's
  state, latency, loss, jitter) for `--minutes` simulated minutes, one batch of every site per
  minute, the rollup step run after each until it has nothing to do. Then: rows and bytes
  (table and indexes) per bucket period, bytes per row, and the steady state per site under
  the default retention (minute buckets 2 days, hours 35, days 400), extrapolated from a day's
  rows per site and the bytes per row measured compacted (autovacuum and SQLite reuse the
  space of dead row versions at steady state; the size as written is printed too);
- intake: one batch of `--intake-sites` sites, one status each, written in one transaction
  (median of `--rounds`), with the history's upsert and with it left out.
One line per figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.services import telemetry, telemetry_rollup
from edgewise.central.services.site_channel import ReportItem, record_batches
from edgewise.central.store.engine import migrate, open_engine, session_factory
from edgewise.central.store.tables import SiteRow, TenantRow, new_id, utcnow
from edgewise.central.store.telemetry_tables import LinkHistoryRow

RETENTION = telemetry.DEFAULT_RETENTION
NAMES = ("mpls", "inet", "lte", "backup", "sat", "wan5", "wan6", "wan7")
START = datetime(2026, 1, 5, tzinfo=UTC)  # simulated: a Monday, midnight


def populate(sessions: sessionmaker[Session], count: int) -> list[str]:
    tenant, now = new_id(), utcnow()
    ids = [new_id() for _ in range(count)]
    with sessions.begin() as session:
        session.execute(insert(TenantRow), [{"id": tenant, "name": f"t{tenant[:8]}",
                                             "description": "", "created_at": now}])  # fmt: skip
        session.execute(
            insert(SiteRow),
            [{"id": site, "tenant_id": tenant, "name": f"s{n}", "kind": "on-premise",
              "labels": {}, "compute_nodes": 1, "slots_per_node": 2, "created_at": now}
             for n, site in enumerate(ids)],
        )  # fmt: skip
    return ids


def status(site: str, at: datetime, links: int, minute: int) -> ReportItem:
    """A status carrying every link (a counters report's `wan.probes` makes the same sample)."""
    body = {
        "revision": 1,
        "state": "converged",
        "links": [
            {"name": NAMES[n], "state": "down" if (minute + n) % 97 == 0 else "up",
             "latency_ms": 10.0 + (minute * 7 + n) % 40, "loss_percent": (minute % 5) / 10,
             "jitter_ms": 1.0 + n}
            for n in range(links)
        ],
    }  # fmt: skip
    return ReportItem(f"{site[:8]}-{at.timestamp():.0f}", "status", at, body)


def roll(sessions: sessionmaker[Session], now: datetime) -> None:
    for _ in range(10_000):  # bounded: each step does a slice; stop when one does nothing
        with sessions.begin() as session:
            done = telemetry_rollup.step(session, now, RETENTION)
        if done == telemetry_rollup.StepDone():
            return


def history_size(engine: Engine, *, compact: bool = False) -> int:
    """Bytes of the link_history table and its indexes; `compact`: rewritten first (VACUUM
    FULL, VACUUM), without the space dead row versions and free pages take."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            if compact:
                connection.execute(text("VACUUM FULL link_history"))
            return int(connection.scalar(text("SELECT pg_total_relation_size('link_history')")))
        if compact:
            connection.execute(text("VACUUM"))
        return int(
            connection.scalar(
                text(
                    "SELECT sum(pgsize) FROM dbstat WHERE name IN ('link_history', "
                    "'ix_link_history_period_start', 'ix_link_history_dirty')"
                )
            )
            or 0
        )


def growth(engine: Engine, sites: int, links: int, minutes: int) -> None:
    sessions = session_factory(engine)
    ids = populate(sessions, sites)
    began, intake_s = time.monotonic(), 0.0
    for minute in range(minutes):
        at = START + timedelta(minutes=minute, seconds=17)
        batch = [(site, [status(site, at, links, minute)]) for site in ids]
        started = time.monotonic()
        with sessions.begin() as session:
            record_batches(session, batch)
        intake_s += time.monotonic() - started
        roll(sessions, at)
    roll(sessions, START + timedelta(minutes=minutes, seconds=telemetry_rollup.GRACE + 1))
    roll(sessions, START + timedelta(days=1, seconds=telemetry_rollup.GRACE + 1))
    took = time.monotonic() - began
    label = f"[{sites} sites x {links} links, {minutes} min, {engine.dialect.name}]"
    print(f"{label} simulated: {took:.1f} s ({intake_s:.1f} s intake, "
          f"{took - intake_s:.1f} s rollup)")  # fmt: skip
    with sessions() as session:
        rows = dict(
            session.execute(
                select(LinkHistoryRow.period, func.count()).group_by(LinkHistoryRow.period)
            ).all()
        )
    written = history_size(engine)
    size = history_size(engine, compact=True)
    total = sum(rows.values())
    per_row = size / total if total else 0.0
    for period in telemetry.PERIODS:
        print(f"{label} {period}-second buckets: {rows.get(period, 0)} rows")
    print(f"{label} link_history: {size} bytes, {total} rows, {per_row:.0f} bytes per row "
          f"({written} bytes as written, before compaction)")  # fmt: skip
    day_share = minutes / 1440
    per_day = {  # rows one site writes in a day, per period
        period: rows.get(period, 0) / sites / day_share if period != telemetry.DAY else links
        for period in telemetry.PERIODS
    }
    steady = sum(per_day[p] * RETENTION.days[i] for i, p in enumerate(telemetry.PERIODS))
    print(f"{label} per site per day: {sum(per_day.values()):.0f} rows, "
          f"{sum(per_day.values()) * per_row / 1024:.0f} KiB written")  # fmt: skip
    print(f"{label} steady state per site (retention {RETENTION.days} days): {steady:.0f} rows, "
          f"{steady * per_row / 1024 / 1024:.2f} MiB; 10,000 sites: "
          f"{steady * per_row * 10_000 / 1024**3:.1f} GiB")  # fmt: skip


def intake(engine: Engine, sites: int, links: int, rounds: int) -> None:
    sessions = session_factory(engine)
    ids = populate(sessions, sites)
    label = f"[{sites} sites x {links} links, {engine.dialect.name}]"
    kept = telemetry.record_links
    upserts: list[float] = []

    def timed(connection: Connection, reports: Sequence[telemetry.Report]) -> int:
        started = time.monotonic()
        written = kept(connection, reports)
        upserts.append(time.monotonic() - started)
        return written

    figures: dict[str, list[float]] = {"with history": [], "without history": []}
    for n in range(rounds * 2):
        with_history = n % 2 == 0  # interleaved, so neither runs on a warmer store
        telemetry.record_links = timed if with_history else _nothing
        at = START + timedelta(days=3, minutes=n)
        batch = [(site, [status(site, at, links, n)]) for site in ids]
        started = time.monotonic()
        with sessions.begin() as session:
            record_batches(session, batch)
        took = time.monotonic() - started
        figures["with history" if with_history else "without history"].append(took)
    telemetry.record_links = kept
    for what, times in figures.items():
        median = statistics.median(times)
        print(f"{label} intake of one status per site, {what}: {median * 1000:.0f} ms a batch "
              f"({median / sites * 1e6:.0f} us per site, median of {rounds})")  # fmt: skip
    median = statistics.median(upserts)
    print(f"{label} of which the history's upsert ({sites * links} buckets, one statement): "
          f"{median * 1000:.0f} ms ({median / sites * 1e6:.0f} us per site)")  # fmt: skip


def _nothing(connection: Connection, reports: Sequence[telemetry.Report]) -> int:
    del connection, reports
    return 0


def run(url: str, what: Callable[[Engine], None]) -> None:
    engine = open_engine(url)
    try:
        migrate(engine)
        what(engine)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--links", type=int, default=4, choices=range(1, len(NAMES) + 1))
    parser.add_argument("--minutes", type=int, default=1440)
    parser.add_argument("--intake-sites", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for n, what in enumerate(
            (
                lambda e: growth(e, args.sites, args.links, args.minutes),
                lambda e: intake(e, args.intake_sites, args.links, args.rounds),
            )
        ):
            url = args.database_url or f"sqlite:///{Path(tmp) / f'store{n}.db'}"
            if args.database_url and n:
                _empty(url)
            run(url, what)
    return 0


def _empty(url: str) -> None:
    """Drops what the growth run left in the PostgreSQL database (for the intake's run)."""
    engine = open_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
