"""Migration 0018 (real-time policy rules) upgrades a store at 0017 and downgrades back to it;
a rule's name is unique in its scope, and a site's rules go with the site."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.central.store.migrating import migrated_from
from tests.central.store.test_alarm_migration import SITE, TENANT


def rule(rule_id: str, name: str) -> str:
    return (
        "INSERT INTO policy_rules (id, scope, scope_key, site_id, name, position, spec, "
        f"created_at) VALUES ('{rule_id}', 'site', 'site:s', 's', '{name}', 0, '{{}}', "
        "CURRENT_TIMESTAMP)"
    )


def test_migration_0018_upgrades_downgrades_and_keeps_names_unique(database_url: str) -> None:
    with migrated_from(database_url, "0017", {"policy_rules"}) as engine:
        with engine.begin() as connection:
            for statement in (TENANT, SITE, rule("r1", "scan"), rule("r2", "other")):
                connection.execute(text(statement))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(rule("r3", "scan")))
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM sites WHERE id = 's'"))
            assert connection.execute(text("SELECT count(*) FROM policy_rules")).scalar() == 0
