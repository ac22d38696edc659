"""Migration 0012 (overlay key rotations) upgrades a store at 0011 and downgrades back to it,
and a rotation goes with its membership (the store's cascade)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from edgewise.central.store.engine import MIGRATIONS, migrate, open_engine

ROTATIONS = {"overlay_key_rotations", "overlay_rotation_waits"}
KEY = "A" * 43 + "="


def test_migration_0012_upgrades_downgrades_and_cascades(database_url: str) -> None:
    engine = open_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0011")
        assert not ROTATIONS & set(inspect(engine).get_table_names())
        migrate(engine)
        assert set(inspect(engine).get_table_names()) >= ROTATIONS
        with engine.begin() as connection:
            for statement in (
                (
                    "INSERT INTO tenants (id, name, description, created_at) "
                    "VALUES ('t', 't', '', CURRENT_TIMESTAMP)"
                ),
                (
                    "INSERT INTO sites (id, tenant_id, name, kind, labels, compute_nodes, "
                    "slots_per_node, description, created_at) VALUES ('s', 't', 's', 'on-premise', "
                    "'{}', 1, 2, '', CURRENT_TIMESTAMP)"
                ),
                (
                    "INSERT INTO overlays (id, tenant_id, name, topology, prefix, base_port, "
                    "key_rotation_h, hubs, created_at) VALUES ('o', 't', 'o', 'full-mesh', "
                    "'10.0.0.0/24', 51820, 168, '[]', CURRENT_TIMESTAMP)"
                ),
                (
                    "INSERT INTO overlay_members (overlay_id, site_id, address) "
                    "VALUES ('o', 's', '10.0.0.1')"
                ),
                (
                    "INSERT INTO overlay_key_rotations (overlay_id, site_id, next_public_key, "
                    "phase, link, switched, updated_at) "
                    f"VALUES ('o', 's', '{KEY}', 'drain', 'a', '[]', CURRENT_TIMESTAMP)"
                ),
                (
                    "INSERT INTO overlay_rotation_waits (overlay_id, rotating_site_id, site_id, "
                    "revision) VALUES ('o', 's', 's', 3)"
                ),
            ):
                connection.execute(text(statement))
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM overlay_members"))
        with engine.connect() as connection:
            for table in ROTATIONS:
                assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0011")
        assert not ROTATIONS & set(inspect(engine).get_table_names())
        migrate(engine)
        assert set(inspect(engine).get_table_names()) >= ROTATIONS
    finally:
        engine.dispose()
