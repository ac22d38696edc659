"""The console's queries on each store (SQLite, PostgreSQL): presence and sync state as SQL
agree with `Presence.of` and `views.in_sync_now` site by site, the label filter reads JSON the
same on both, and the dashboard's counts are the list's, scoped to a tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, Role
from edgewise.central.services.site_pages import SiteFilter, SyncState, count_sites, list_sites
from edgewise.central.services.views import in_sync_now
from edgewise.central.store.engine import migrate, open_engine
from edgewise.central.store.tables import (
    DesiredStateRow,
    SiteRow,
    SiteStatusRow,
    TenantRow,
)
from edgewise.model.sites import Presence

ADMIN = Principal("u-admin", "admin", Role.ADMIN, None)
# (enrolled, seen ago in s, state, desired, applied); None: never enrolled / never heard
CASES = [
    (False, None, None, 0, 0),
    (True, None, None, 0, 0),  # enrolled just now, no report yet: online, behind
    (True, 5, "converged", 0, 0),
    (True, 5, "converged", 3, 3),
    (True, 5, "converged", 3, 2),
    (True, 5, "degraded", 3, 3),
    (True, 7200, "converged", 1, 1),  # offline though it said converged
    (True, 7200, "degraded", 1, 1),
]


def expected(enrolled: bool, seen: int | None, state: str | None, desired: int, applied: int,
             now: datetime) -> tuple[Presence, SyncState | None]:  # fmt: skip
    enrolled_at = now - timedelta(seconds=seen or 0) if enrolled else None
    seen_at = now - timedelta(seconds=seen) if seen is not None else None
    presence = Presence.of(enrolled_at, seen_at, now)
    if presence is Presence.NEVER_ENROLLED:
        return presence, None
    if in_sync_now(presence, desired, applied, state):
        return presence, SyncState.IN_SYNC
    return presence, SyncState.FAILED if state == "degraded" else SyncState.BEHIND


def test_presence_and_sync_in_sql_are_the_pythons(database_url: str) -> None:
    engine = open_engine(database_url)
    migrate(engine)
    now = datetime.now(UTC)
    wanted: dict[str, tuple[Presence, SyncState | None]] = {}
    try:
        with Session(engine) as session, session.begin():
            session.add_all([TenantRow(id="t-a", name="a"), TenantRow(id="t-b", name="b")])
            session.flush()
            for n, (enrolled, seen, state, desired, applied) in enumerate(CASES * 2):
                tenant = "t-a" if n < len(CASES) else "t-b"
                site = SiteRow(
                    id=f"s{n:02d}", tenant_id=tenant, name=f"site-{n:02d}", kind="on-premise",
                    labels={"region": "eu" if n % 2 else "us", "n": str(n)}, compute_nodes=1,
                    slots_per_node=2,
                    enrolled_at=now - timedelta(seconds=seen or 0) if enrolled else None,
                )  # fmt: skip
                session.add(site)
                session.flush()
                if seen is not None:
                    at = now - timedelta(seconds=seen)
                    status = SiteStatusRow(site_id=site.id, applied_revision=applied, state=state)
                    status.reported_at = status.last_seen_at = at
                    session.add(status)
                if desired:
                    session.add(DesiredStateRow(site_id=site.id, revision=desired, document={}))
                wanted[site.id] = expected(enrolled, seen, state, desired, applied, now)
        with Session(engine) as session:
            for presence in Presence:
                page, _ = list_sites(session, ADMIN, SiteFilter(presence=presence), marker=None)
                listed = {line.site.id for line in page.items}
                assert listed == {s for s, (p, _) in wanted.items() if p is presence}, presence
            for sync in SyncState:
                page, _ = list_sites(session, ADMIN, SiteFilter(sync=sync), marker=None)
                listed = {line.site.id for line in page.items}
                assert listed == {s for s, (_, y) in wanted.items() if y is sync}, sync
                assert all(line.sync is sync for line in page.items)
            eu, _ = list_sites(session, ADMIN, SiteFilter(labels={"region": "eu"}), marker=None)
            assert len(eu.items) == len(CASES)
            one, _ = list_sites(session, ADMIN, SiteFilter(labels={"region": "eu", "n": "3"}),
                                marker=None)  # fmt: skip
            assert [line.site.name for line in one.items] == ["site-03"]
            counted = count_sites(session, ADMIN, datetime.now(UTC))
            assert counted["total"] == len(wanted)
            for presence in Presence:
                assert counted[presence.value] == sum(p is presence for p, _ in wanted.values())
            alice = Principal("u-a", "alice", Role.TENANT, "t-a")
            mine = count_sites(session, alice, datetime.now(UTC))
            assert mine["total"] == len(CASES)
            assert mine[SyncState.IN_SYNC.value] == counted[SyncState.IN_SYNC.value] // 2
    finally:
        engine.dispose()
