"""Migration 0013 (alarms) upgrades a store at 0012 and downgrades back to it; the store allows
one active alarm per kind and component, any number of cleared ones, and an alarm goes with its
site."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.central.store.migrating import migrated_from

TENANT = (
    "INSERT INTO tenants (id, name, description, created_at) "
    "VALUES ('t', 't', '', CURRENT_TIMESTAMP)"
)
SITE = (
    "INSERT INTO sites (id, tenant_id, name, kind, labels, compute_nodes, slots_per_node, "
    "description, created_at) VALUES ('s', 't', 's', 'on-premise', '{}', 1, 2, '', "
    "CURRENT_TIMESTAMP)"
)


def alarm(alarm_id: str, active_key: str | None) -> str:
    key = "NULL" if active_key is None else f"'{active_key}'"
    return (
        "INSERT INTO alarms (id, kind, component, active_key, site_id, managed_object_type, "
        "managed_object_id, severity, event_type, probable_cause, fault_type, fault_details, "
        "details, event_time, raised_at, ack_state, is_root_cause) VALUES "
        f"('{alarm_id}', 'SITE_OFFLINE', 'site:s', {key}, 's', 'SITE', 's', 'CRITICAL', "
        "'COMMUNICATIONS_ALARM', 'siteUnreachable', 'site offline', '[]', '{}', "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'UNACKNOWLEDGED', true)"
    )


def test_migration_0013_upgrades_downgrades_and_keeps_one_active_alarm(database_url: str) -> None:
    with migrated_from(database_url, "0012", {"alarms"}) as engine:
        with engine.begin() as connection:
            for statement in (
                TENANT,
                SITE,
                alarm("a1", None),
                alarm("a2", None),
                alarm("a3", "K|site:s"),
            ):
                connection.execute(text(statement))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(alarm("a4", "K|site:s")))
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM sites WHERE id = 's'"))
            assert connection.execute(text("SELECT count(*) FROM alarms")).scalar() == 0
