"""Migration 0021 (where an auto-scaling rule comes from, and SCALE_NS rules) adds
autoscale_rules.origin, scale_type and add_sites to a store at 0020, rules already there being
the API's SCALE_VNF ones, and drops them again going back."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from edgewise.central.store.engine import open_engine
from tests.central.store.migrating import migrated_from


def _column(engine: Engine, name: str) -> dict[str, object] | None:
    columns = inspect(engine).get_columns("autoscale_rules")
    return next((dict(c) for c in columns if c["name"] == name), None)


def test_migration_0021_upgrades_and_downgrades(database_url: str) -> None:
    with migrated_from(database_url, "0020", set()) as engine:
        for name, default in (("origin", "api"), ("scale_type", "SCALE_VNF")):
            column = _column(engine, name)
            assert column is not None
            assert column["nullable"] is False
            assert default in str(column["default"])
        assert _column(engine, "add_sites") is not None
    after = open_engine(database_url)
    try:
        assert [_column(after, n) for n in ("origin", "scale_type", "add_sites")] == [None] * 3
    finally:
        after.dispose()
