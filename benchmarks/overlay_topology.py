"""Overlays at scale: one hub-and-spoke of N spokes and one full mesh of M sites.

Usage: python benchmarks/overlay_topology.py [--spokes 1000] [--mesh 50] [--no-sim]
                                             [--workers K] [--timeout S]

1. In the store (a fresh SQLite store, sites written in bulk with two WAN links each and their
   keys as if reported): the overlays made through `orchestrator.overlays`; measured:
   - the desired-state document's size per site: the hub, a spoke, a mesh member (bytes of its
     canonical JSON);
   - the central's time to recompute after one more site joins (the join's transaction,
     commit included) and how many documents it wrote.
2. With the simulator (`edgewise simulate`'s workers: real site controllers, sim driver, real
   mTLS channel; a central child process, as benchmarks/channel_scale.py runs them), once per
   topology: the sites created and enrolled, their links and keys written to the central's
   store as if configured and reported, the overlay created over all but one site through the
   API and every site's document acknowledged; then the last site joins through the API.
   Measured: the time from the join call until every site that gains a peer has acknowledged
   the revision that carries it (a site "has" its new peer once it acked that revision).
One line per figure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_central import Central, console
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.orchestrator import overlays
from edgewise.central.services.access import Principal, Role
from edgewise.central.store.bulk import table_of
from edgewise.central.store.engine import migrate, open_engine, session_factory
from edgewise.central.store.sdwan_tables import SiteLinkRow, SiteOverlayKeyRow
from edgewise.central.store.tables import DesiredStateRow, SiteRow, TenantRow, new_id, utcnow
from edgewise.lab.errors import PhaseTimeout
from edgewise.lab.simulator.fleet import Fleet, default_workers
from edgewise.lab.simulator.report import progress_bars
from edgewise.lab.simulator.simulation import Simulation
from edgewise.model.desired import canonical_json
from edgewise.model.fields import read, write
from edgewise.model.links import WanLink

OPERATOR = Principal("bench", "bench", Role.ADMIN, None)


def links_of(index: int) -> list[dict[str, object]]:
    """Two links per site: an MPLS circuit and an internet link, each with its own address."""
    high, low = divmod(index, 250)
    specs = [
        {
            "name": "mpls",
            "kind": "mpls",
            "interface": "wan0",
            "address": f"10.{high % 250}.{low}.2/24",
            "gateway": f"10.{high % 250}.{low}.1",
        },
        {
            "name": "inet",
            "kind": "internet",
            "interface": "wan1",
            "address": f"100.{64 + high % 60}.{low}.2/24",
            "gateway": f"100.{64 + high % 60}.{low}.1",
        },
    ]
    return [write(read(WanLink, spec)) for spec in specs]


def key_of(site_id: str) -> str:
    return base64.b64encode(site_id.encode()[:32].ljust(32, b"k")).decode()


def with_links_and_keys(session: Session, tenant: str, site_ids: list[str], start: int) -> None:
    """The sites' links, and their keys as if each site had reported one."""
    now = utcnow()
    connection = session.connection()
    connection.execute(
        insert(table_of(SiteLinkRow)),
        [
            {"site_id": site, "name": spec["name"], "position": p, "spec": spec}
            for i, site in enumerate(site_ids)
            for p, spec in enumerate(links_of(start + i))
        ],
    )
    connection.execute(
        insert(table_of(SiteOverlayKeyRow)),
        [
            {"site_id": site, "tenant_id": tenant, "public_key": key_of(site), "reported_at": now}
            for site in site_ids
        ],
    )


def new_sites(session: Session, name: str, count: int, start: int) -> tuple[str, list[str]]:
    now = utcnow()
    tenant = new_id()
    ids = [new_id() for _ in range(count)]
    connection = session.connection()
    connection.execute(
        insert(table_of(TenantRow)),
        [{"id": tenant, "name": name, "description": "", "created_at": now}],
    )
    connection.execute(
        insert(table_of(SiteRow)),
        [
            {
                "id": site,
                "tenant_id": tenant,
                "name": f"{name}-{i}",
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
    with_links_and_keys(session, tenant, ids, start)
    return tenant, ids


def size(sessions: sessionmaker[Session], site_id: str) -> int:
    with sessions() as session:
        document = session.scalar(
            select(DesiredStateRow.document).where(DesiredStateRow.site_id == site_id)
        )
    return len(canonical_json(document).encode())


def revisions(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return dict(
            session.execute(select(DesiredStateRow.site_id, DesiredStateRow.revision)).all()
        )


def in_store(spokes: int, mesh: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ew-overlay-") as scratch:
        engine = open_engine(f"sqlite:///{Path(scratch) / 'central.db'}")
        migrate(engine)
        sessions = session_factory(engine)
        try:
            for topology, count in (("hub-and-spoke", spokes + 1), ("full-mesh", mesh)):
                with sessions.begin() as session:
                    tenant, ids = new_sites(session, topology, count + 1, 0)
                    hubs = (ids[0],) if topology == "hub-and-spoke" else ()
                    spec = overlays.OverlaySpec(
                        tenant, "o", topology, "10.200.0.0/16", hubs=hubs, sites=tuple(ids[:count])
                    )
                    overlay = overlays.create_overlay(session, OPERATOR, spec).id
                label = f"[{topology} of {count} sites]"
                if topology == "hub-and-spoke":
                    print(f"{label} desired state of the hub: {size(sessions, ids[0])} bytes")
                    print(f"{label} desired state of a spoke: {size(sessions, ids[1])} bytes")
                else:
                    print(f"{label} desired state of a member: {size(sessions, ids[0])} bytes")
                before = revisions(sessions)
                started = time.perf_counter()
                with sessions.begin() as session:
                    overlays.join(session, OPERATOR, overlay, [ids[count]])
                elapsed = time.perf_counter() - started
                after = revisions(sessions)
                written = sum(after[s] != before.get(s) for s in after)
                print(
                    f"{label} central recompute after one site joins: {elapsed * 1000:.0f} ms "
                    f"({written} documents written)"
                )
        finally:
            engine.dispose()


async def with_simulator(topology: str, count: int, workers: int, bound: float) -> None:
    """`count` members, then one more joins; the sites' acknowledgements timed."""
    label = f"[{topology} of {count} sites, simulated]"
    with tempfile.TemporaryDirectory(prefix="ew-overlay-sim-") as scratch:
        central = Central(Path(scratch) / "central")
        central.start()
        fleet = Fleet(Path(scratch))
        headers = {"Authorization": f"Bearer {central.token()}"}
        try:
            async with httpx.AsyncClient(base_url=central.url, headers=headers, timeout=300) as api:
                with progress_bars(console) as progress:
                    simulation = Simulation(
                        api, progress, fleet, sites=count + 1, workers=workers, timeout=bound
                    )
                    await simulation.setup()
                    assert simulation.tenant_id is not None
                    ids, tenant = simulation.site_ids, simulation.tenant_id
                    engine = open_engine(f"sqlite:///{central.data_dir / 'edgewise.db'}")
                    try:
                        with session_factory(engine).begin() as session:
                            with_links_and_keys(session, tenant, ids, 0)
                    finally:
                        engine.dispose()
                    hubs = [ids[0]] if topology == "hub-and-spoke" else []
                    made = await api.post(
                        "api/v1/overlays",
                        json={
                            "tenantId": tenant,
                            "name": "o",
                            "topology": topology,
                            "prefix": "10.200.0.0/16",
                            "hubs": hubs,
                            "sites": ids[:count],
                        },
                    )
                    made.raise_for_status()
                    await acked(api, fleet, ids[:count], bound, "overlay up")
                    before = await current(api, ids)
                    started = time.monotonic()
                    joined = await api.post(
                        f"api/v1/overlays/{made.json()['id']}/members",
                        json={"siteIds": [ids[count]]},
                    )
                    joined.raise_for_status()
                    call = time.monotonic() - started
                    now = await current(api, ids)
                    gaining = {s: r for s, r in now.items() if r != before[s]}
                    what = "new peer acknowledged"
                    times = await acked(api, fleet, list(gaining), bound, what, gaining)
        finally:
            await fleet.stop()
            central.stop()
    after = [t - started for t in times.values()]
    print(f"{label} join call: {call * 1000:.0f} ms; {len(gaining)} sites gain a peer")
    print(
        f"{label} time until every site has its new peer: {max(after):.2f} s "
        f"(p50 {statistics.median(after):.2f} s, {len(after)}/{len(gaining)} sites)"
    )


async def current(api: httpx.AsyncClient, ids: list[str]) -> dict[str, int]:
    found = {}
    for site in ids:
        answer = await api.get(f"api/v1/sites/{site}/desired-state")
        found[site] = int(answer.json()["revision"])
    return found


async def acked(
    api: httpx.AsyncClient,
    fleet: Fleet,
    ids: list[str],
    bound: float,
    what: str,
    wanted: dict[str, int] | None = None,
) -> dict[str, float]:
    """Waits (bounded) until each site acknowledged its current (or `wanted`) revision."""
    wanted = wanted or await current(api, ids)
    deadline = time.monotonic() + bound
    while True:
        done = {s: fleet.done[r][s] for s, r in wanted.items() if s in fleet.done.get(r, {})}
        if len(done) == len(wanted):
            return done
        if time.monotonic() > deadline:
            raise PhaseTimeout(
                f"{what}: {len(done)}/{len(wanted)} sites within {bound:.0f} s",
                len(done),
                len(wanted),
            )
        await asyncio.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spokes", type=int, default=1000)
    parser.add_argument("--mesh", type=int, default=50)
    parser.add_argument("--no-sim", action="store_true", help="only the figures in the store")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    if args.spokes < 1 or args.mesh < 2:
        parser.error("--spokes is at least 1 and --mesh at least 2")
    in_store(args.spokes, args.mesh)
    if not args.no_sim:
        for topology, count in (("hub-and-spoke", args.spokes + 1), ("full-mesh", args.mesh)):
            workers = args.workers or default_workers(count + 1)
            asyncio.run(with_simulator(topology, count, workers, args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
