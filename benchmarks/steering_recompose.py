"""Steering at fleet scale: the central's time to recompose every site's document after one
fleet-wide steering policy change.

Usage: python benchmarks/steering_recompose.py [--sites 1000 10000] [--database-url URL]

For each N: a fresh store (SQLite in a temporary directory unless --database-url), N sites of
one tenant created in the store in bulk, each with three WAN links (mpls, internet, lte) and a
first revision; two SLA profiles and two classes. Measured, each in its own transaction through
`orchestrator.steering` as the API calls it (commit included):
- a fleet-wide policy added (every site gets a new revision: one UPDATE per chunk);
- that policy changed (its links reordered);
- a site policy added at one site (only that site is rewritten).
One line per figure: `[N sites] <what>: X s (D documents written)`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.orchestrator import steering
from edgewise.central.orchestrator import steering_catalogue as catalogue
from edgewise.central.services.access import Principal, Role
from edgewise.central.store.bulk import table_of
from edgewise.central.store.engine import migrate, open_engine, session_factory
from edgewise.central.store.sdwan_tables import SiteLinkRow
from edgewise.central.store.tables import DesiredStateRow, SiteRow, TenantRow, new_id, utcnow
from edgewise.model.fields import read, write
from edgewise.model.links import WanLink

ADMIN = Principal("bench", "bench", Role.ADMIN, None)
LINKS = [
    {
        "name": "mpls",
        "kind": "mpls",
        "interface": "wan0",
        "address": "192.0.2.2/30",
        "gateway": "192.0.2.1",
    },
    {"name": "inet", "kind": "internet", "interface": "wan1", "dhcp": True},
    {"name": "lte", "kind": "lte", "interface": "wwan0", "dhcp": True, "metered": True},
]


def populate(sessions: sessionmaker[Session], count: int) -> list[str]:
    """`count` sites of one tenant, each with LINKS and a first revision carrying them."""
    specs = [write(read(WanLink, link)) for link in LINKS]
    document = {"services": [], "links": specs}
    tenant = new_id()
    ids = [new_id() for _ in range(count)]
    now = utcnow()
    with sessions.begin() as session:
        connection = session.connection()
        connection.execute(
            insert(table_of(TenantRow)),
            [{"id": tenant, "name": "bench", "description": "", "created_at": now}],
        )
        connection.execute(
            insert(table_of(SiteRow)),
            [
                {
                    "id": site,
                    "tenant_id": tenant,
                    "name": f"site-{i}",
                    "kind": "on-premise",
                    "labels": {},
                    "compute_nodes": 1,
                    "slots_per_node": 2,
                    "description": "",
                    "created_at": now,
                }
                for i, site in enumerate(ids)
            ],
        )
        connection.execute(
            insert(table_of(SiteLinkRow)),
            [
                {"site_id": site, "name": spec["name"], "position": p, "spec": spec}
                for site in ids
                for p, spec in enumerate(specs)
            ],
        )
        connection.execute(
            insert(table_of(DesiredStateRow)),
            [
                {"site_id": site, "revision": 1, "document": document, "updated_at": now}
                for site in ids
            ],
        )
        catalogue.create(
            session, ADMIN, catalogue.SLA_PROFILES, {"name": "realtime", "max_latency_ms": 150}
        )
        catalogue.create(
            session, ADMIN, catalogue.SLA_PROFILES, {"name": "bulk", "max_loss_percent": 10}
        )
        catalogue.create(
            session,
            ADMIN,
            catalogue.APP_CLASSES,
            {"name": "voice", "protocol": "udp", "ports": [5060]},
        )
        catalogue.create(session, ADMIN, catalogue.APP_CLASSES, {"name": "video", "dscp": 34})
    return ids


def revisions_total(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.sum(DesiredStateRow.revision))) or 0)


def timed(
    sessions: sessionmaker[Session], change: Callable[[Session], object]
) -> tuple[float, int]:
    """Seconds for `change` in one committed transaction, and documents it wrote."""
    before = revisions_total(sessions)
    started = time.perf_counter()
    with sessions.begin() as session:
        change(session)
    elapsed = time.perf_counter() - started
    return elapsed, revisions_total(sessions) - before


def run(count: int, url: str) -> None:
    engine = open_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    try:
        ids = populate(sessions, count)
        spec = steering.PolicySpec("fleet", None, None, "voice", ("mpls", "inet"), "realtime")
        found: list[str] = []

        def add(session: Session) -> None:
            found.append(steering.create_policy(session, ADMIN, spec).id)

        def change(session: Session) -> None:
            steering.update_policy(
                session,
                ADMIN,
                found[0],
                links=["inet", "mpls", "lte"],
                sla=None,
                clear_sla=False,
                spread=None,
            )

        def one_site(session: Session) -> None:
            site = steering.PolicySpec("site", ids[0], None, "video", ("lte",))
            steering.create_policy(session, ADMIN, site)

        for what, step in (
            ("fleet-wide policy added", add),
            ("fleet-wide policy changed", change),
            ("one site's policy added", one_site),
        ):
            elapsed, written = timed(sessions, step)
            print(
                f"[{count} sites] {what}: {elapsed:.2f} s ({written} documents written)", flush=True
            )
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--database-url",
        default=None,
        help="an empty PostgreSQL database (default: SQLite in a temp dir)",
    )
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.sites):
        parser.error("--sites: each count is at least 1")
    if args.database_url and len(args.sites) > 1:
        parser.error("--database-url: one --sites count per (empty) database")
    for count in args.sites:
        if args.database_url:
            run(count, args.database_url)
            continue
        with tempfile.TemporaryDirectory(prefix="ew-steering-") as scratch:
            run(count, f"sqlite:///{Path(scratch) / 'central.db'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
