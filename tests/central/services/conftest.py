"""Services run against a migrated store of each kind, with an admin and a tenant principal."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, Role
from edgewise.central.services.tenants import create_tenant, create_user
from edgewise.central.services.views import User
from edgewise.central.store.engine import migrate, open_engine, session_factory
from edgewise.central.store.tables import UserRow


@dataclass(frozen=True)
class World:
    session: Session
    admin: Principal
    acme: Principal
    globex: Principal


def principal_of(user: UserRow | User) -> Principal:
    return Principal(user.id, user.name, Role(user.role), user.tenant_id)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    engine = open_engine(database_url)
    migrate(engine)
    with session_factory(engine)() as session:
        root = UserRow(name="root", role="admin", tenant_id=None)
        session.add(root)
        session.flush()
        admin = principal_of(root)
        acme = create_tenant(session, admin, "acme", "")
        globex = create_tenant(session, admin, "globex", "")
        alice = create_user(session, admin, "alice", Role.TENANT, acme.id)
        bob = create_user(session, admin, "bob", Role.TENANT, globex.id)
        session.commit()
        yield World(session, admin, principal_of(alice), principal_of(bob))
    engine.dispose()
