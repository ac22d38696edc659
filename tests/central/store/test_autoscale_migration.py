"""Migration 0020 (auto-scaling rules) upgrades a store at 0019 and downgrades back to it."""

from __future__ import annotations

from sqlalchemy import inspect

from tests.central.store.migrating import migrated_from


def test_migration_0020_upgrades_and_downgrades(database_url: str) -> None:
    with migrated_from(database_url, "0019", {"autoscale_rules"}) as engine:
        columns = {c["name"] for c in inspect(engine).get_columns("autoscale_rules")}
        assert {"ns_instance_id", "cooldown_s", "min_level", "max_level"} <= columns
