"""The store opens and migrates on SQLite and on PostgreSQL, and the migrations match the tables."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from edgewise.central.store.engine import MIGRATIONS, migrate, open_engine
from edgewise.central.store.tables import Base


def test_migrate_creates_every_table_and_is_idempotent(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        migrate(engine)
        migrate(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert "alembic_version" in tables
    finally:
        engine.dispose()


def test_migrations_match_the_table_definitions(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}/wal.db")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_migration_0009_keeps_the_users_and_makes_names_unique_per_tenant(
    database_url: str,
) -> None:
    engine = open_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    add_user = text(
        "INSERT INTO users (id, tenant_id, name, role, created_at) "
        "VALUES (:id, :tenant, :name, :role, CURRENT_TIMESTAMP)"
    )
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0008")
            for tenant in ("a", "b"):
                connection.execute(
                    text("INSERT INTO tenants (id, name, description, created_at) "
                         "VALUES (:id, :id, '', CURRENT_TIMESTAMP)"),
                    {"id": tenant},
                )  # fmt: skip
            connection.execute(add_user, {"id": "1", "tenant": None, "name": "root",
                                          "role": "admin"})  # fmt: skip
            connection.execute(add_user, {"id": "2", "tenant": "a", "name": "alice",
                                          "role": "tenant"})  # fmt: skip
        migrate(engine)
        with engine.begin() as connection:
            connection.execute(add_user, {"id": "3", "tenant": "b", "name": "alice",
                                          "role": "tenant"})  # fmt: skip
            rows = connection.execute(text("SELECT id, role FROM users ORDER BY id")).all()
            assert [tuple(r) for r in rows] == [("1", "admin"), ("2", "tenant"), ("3", "tenant")]
        taken: tuple[tuple[str | None, str], ...] = (("a", "alice"), (None, "root"))
        for owner, name in taken:
            with pytest.raises(IntegrityError), engine.begin() as connection:
                connection.execute(add_user, {"id": "4", "tenant": owner, "name": name,
                                              "role": "tenant"})  # fmt: skip
    finally:
        engine.dispose()
