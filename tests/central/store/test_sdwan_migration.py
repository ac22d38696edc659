"""Migration 0011 (SD-WAN) upgrades a store holding sites and downgrades back to 0010 without
touching what 0010 had."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from edgewise.central.store.engine import MIGRATIONS, migrate, open_engine

SDWAN = {
    "site_links", "sla_profiles", "app_classes", "steering_policies", "steering_bounds",
    "overlays", "overlay_members", "site_overlay_keys", "site_link_states",
}  # fmt: skip


def test_migration_0011_upgrades_and_downgrades(database_url: str) -> None:
    engine = open_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0010")
            connection.execute(text("INSERT INTO tenants (id, name, description, created_at) "
                                    "VALUES ('t', 't', '', CURRENT_TIMESTAMP)"))  # fmt: skip
            connection.execute(text(
                "INSERT INTO sites (id, tenant_id, name, kind, labels, compute_nodes, "
                "slots_per_node, description, created_at) VALUES ('s', 't', 's', 'on-premise', "
                "'{}', 1, 2, '', CURRENT_TIMESTAMP)"
            ))  # fmt: skip
        assert not SDWAN & set(inspect(engine).get_table_names())
        migrate(engine)
        assert set(inspect(engine).get_table_names()) >= SDWAN
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO site_links (site_id, name, position, spec) "
                                    "VALUES ('s', 'mpls', 0, '{}')"))  # fmt: skip
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0010")
        assert not SDWAN & set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            assert connection.execute(text("SELECT name FROM sites")).scalars().all() == ["s"]
        migrate(engine)
        assert set(inspect(engine).get_table_names()) >= SDWAN
    finally:
        engine.dispose()
