"""Migration 0019 (link_history) upgrades a store at 0018 and downgrades back to it; a site's
history goes with the site."""

from __future__ import annotations

from sqlalchemy import text

from tests.central.store.migrating import migrated_from
from tests.central.store.test_alarm_migration import SITE, TENANT

BUCKET = (
    "INSERT INTO link_history (site_id, link, period, start, samples, up, degraded, down, "
    "latency_n, loss_n, jitter_n, dirty) VALUES ('s', 'mpls', 60, 0, 1, 1, 0, 0, 0, 0, 0, true)"
)


def test_migration_0019_upgrades_downgrades_and_history_goes_with_its_site(
    database_url: str,
) -> None:
    with migrated_from(database_url, "0018", {"link_history"}) as engine:
        with engine.begin() as connection:
            for statement in (TENANT, SITE, BUCKET):
                connection.execute(text(statement))
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM sites WHERE id = 's'"))
            assert connection.execute(text("SELECT count(*) FROM link_history")).scalar() == 0
