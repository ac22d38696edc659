"""What the migration tests share: a store brought to the revision before a migration, then to
the head for the test's body, then back down, each step checked by the tables it adds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

from edgewise.central.store.engine import MIGRATIONS, migrate, open_engine


@contextmanager
def migrated_from(database_url: str, before: str, tables: set[str]) -> Iterator[Engine]:
    """An engine on a store at revision `before` (none of `tables` yet), migrated to the head
    (all of them) for the body; afterwards downgraded to `before` again (none of them)."""
    engine = open_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, before)
        assert not set(inspect(engine).get_table_names()) & tables
        migrate(engine)
        assert set(inspect(engine).get_table_names()) >= tables
        yield engine
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, before)
        assert not set(inspect(engine).get_table_names()) & tables
    finally:
        engine.dispose()
