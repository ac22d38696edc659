"""Migration 0019 (link_history) upgrades a store at 0018 and downgrades back to it; a site's
history goes with the site."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from edgewise.central.store.engine import MIGRATIONS, migrate, open_engine
from tests.central.store.test_alarm_migration import SITE, TENANT

BUCKET = (
    "INSERT INTO link_history (site_id, link, period, start, samples, up, degraded, down, "
    "latency_n, loss_n, jitter_n, dirty) VALUES ('s', 'mpls', 60, 0, 1, 1, 0, 0, 0, 0, 0, true)"
)


def test_migration_0019_upgrades_downgrades_and_history_goes_with_its_site(
    database_url: str,
) -> None:
    engine = open_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0018")
        assert "link_history" not in inspect(engine).get_table_names()
        migrate(engine)
        assert "link_history" in inspect(engine).get_table_names()
        with engine.begin() as connection:
            for statement in (TENANT, SITE, BUCKET):
                connection.execute(text(statement))
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM sites WHERE id = 's'"))
            assert connection.execute(text("SELECT count(*) FROM link_history")).scalar() == 0
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0018")
        assert "link_history" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
