"""Alembic environment: runs migrations on the connection that `engine.migrate` hands in."""

from alembic import context

from edgewise.central.store import (  # noqa: F401 - their tables join Base.metadata
    alarm_tables,
    autoscale_tables,
    pm_tables,
    policy_tables,
    sdwan_tables,
    telemetry_tables,
    web_tables,
)
from edgewise.central.store.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
