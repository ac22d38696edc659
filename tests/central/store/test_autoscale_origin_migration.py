"""Migration 0021 (where an auto-scaling rule comes from) adds autoscale_rules.origin to a store
at 0020, rules already there being the API's, and drops it again going back."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from edgewise.central.store.engine import open_engine
from tests.central.store.migrating import migrated_from


def _origin(engine: Engine) -> dict[str, object] | None:
    columns = inspect(engine).get_columns("autoscale_rules")
    return next((dict(c) for c in columns if c["name"] == "origin"), None)


def test_migration_0021_upgrades_and_downgrades(database_url: str) -> None:
    with migrated_from(database_url, "0020", set()) as engine:
        origin = _origin(engine)
        assert origin is not None
        assert origin["nullable"] is False
        assert "api" in str(origin["default"])
    after = open_engine(database_url)
    try:
        assert _origin(after) is None
    finally:
        after.dispose()
