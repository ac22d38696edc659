"""Migration 0017 (NS performance management) upgrades a store at 0013 and downgrades back to
it; a job's reports go with the job, and a tenant's jobs and thresholds with the tenant."""

from __future__ import annotations

from sqlalchemy import text

from tests.central.store.migrating import migrated_from

TABLES = {"pm_jobs", "pm_reports", "pm_thresholds"}
TENANT = "INSERT INTO tenants (id, name, description, created_at) VALUES ('t', 't', '', {now})"
JOB = (
    "INSERT INTO pm_jobs (id, tenant_id, object_type, object_ids, metrics, criteria, "
    "collection_period, reporting_period, next_collection_at, samples, created_at) VALUES "
    "('j', 't', 'NS', '[\"n\"]', '[\"PacketCount\"]', '{{}}', 10, 20, {now}, '[]', {now})"
)
REPORT = (
    "INSERT INTO pm_reports (id, job_id, tenant_id, ready_at, entries) "
    "VALUES ('r', 'j', 't', {now}, '[]')"
)
THRESHOLD = (
    "INSERT INTO pm_thresholds (id, tenant_id, object_type, object_id, metric, value, "
    "hysteresis, evaluated_at, created_at) VALUES ('h', 't', 'NS', 'n', 'PacketCount', 1, 0, "
    "{now}, {now})"
)
ROWS = tuple(row.format(now="CURRENT_TIMESTAMP") for row in (TENANT, JOB, REPORT, THRESHOLD))


def test_migration_0017_upgrades_downgrades_and_cascades(database_url: str) -> None:
    with migrated_from(database_url, "0013", TABLES) as engine, engine.begin() as connection:
        for statement in ROWS:
            connection.execute(text(statement))
        connection.execute(text("DELETE FROM pm_jobs WHERE id = 'j'"))
        assert connection.execute(text("SELECT count(*) FROM pm_reports")).scalar() == 0
        connection.execute(text("DELETE FROM tenants WHERE id = 't'"))
        assert connection.execute(text("SELECT count(*) FROM pm_thresholds")).scalar() == 0
