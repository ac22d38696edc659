"""Tenants, users and tokens: creation rules, authentication, revocation, expiry, scoping."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from edgewise.central.services import tenants
from edgewise.central.services.access import Role
from edgewise.central.services.auth import authenticate, bootstrap_admin, hash_token
from edgewise.central.services.errors import Conflict, Forbidden, NotFound, Unauthenticated
from edgewise.central.store.tables import ApiTokenRow
from tests.central.services.conftest import World


def test_only_admins_create_tenants(world: World) -> None:
    with pytest.raises(Forbidden):
        tenants.create_tenant(world.session, world.acme, "initech", "")
    with pytest.raises(Conflict, match="already exists"):
        tenants.create_tenant(world.session, world.admin, "acme", "")


def test_a_tenant_user_sees_only_its_own_tenant_and_users(world: World) -> None:
    page = tenants.list_tenants(world.session, world.acme, marker=None, limit=10)
    assert [t.name for t in page.items] == ["acme"]
    users = tenants.list_users(world.session, world.acme, marker=None, limit=10)
    assert [u.name for u in users.items] == ["alice"]
    with pytest.raises(NotFound):
        tenants.get_tenant(world.session, world.acme, world.globex.tenant_id or "")
    with pytest.raises(NotFound):
        tenants.get_user(world.session, world.acme, world.globex.user_id)


def test_a_tenant_user_creates_no_users_and_a_tenant_admin_only_its_tenants(
    world: World,
) -> None:
    with pytest.raises(Forbidden, match="only an admin or a tenant admin"):
        tenants.create_user(world.session, world.acme, "carol", Role.TENANT, None)
    boss = replace(world.acme, role=Role.TENANT_ADMIN)
    with pytest.raises(Forbidden):
        tenants.create_user(world.session, boss, "mallory", Role.TENANT, world.globex.tenant_id)
    with pytest.raises(Forbidden):
        tenants.create_user(world.session, boss, "mallory", Role.ADMIN, None)
    carol = tenants.create_user(world.session, boss, "carol", Role.TENANT, None)
    assert carol.tenant_id == world.acme.tenant_id


def test_token_round_trip_revocation_and_expiry(world: World) -> None:
    issued = tenants.create_token(world.session, world.acme, "ci", user_id=None, lifetime_days=1)
    stored = world.session.get(ApiTokenRow, issued.id)
    assert stored is not None
    assert stored.token_hash == hash_token(issued.secret)
    assert issued.secret not in (stored.token_hash, stored.prefix)
    caller = authenticate(world.session, f"Bearer {issued.secret}")
    assert (caller.user_id, caller.tenant_id) == (world.acme.user_id, world.acme.tenant_id)

    stored.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    world.session.flush()
    with pytest.raises(Unauthenticated, match="expired"):
        authenticate(world.session, f"Bearer {issued.secret}")

    second = tenants.create_token(
        world.session, world.acme, "ops", user_id=None, lifetime_days=None
    )
    tenants.revoke_token(world.session, world.acme, second.id)
    with pytest.raises(Unauthenticated, match="revoked"):
        authenticate(world.session, f"Bearer {second.secret}")


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer ew_not-a-real-token"]
)
def test_bad_credentials_are_refused(world: World, header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        authenticate(world.session, header)


def test_tenant_cannot_revoke_or_see_another_tenants_token(world: World) -> None:
    issued = tenants.create_token(
        world.session, world.globex, "x", user_id=None, lifetime_days=None
    )
    with pytest.raises(NotFound):
        tenants.revoke_token(world.session, world.acme, issued.id)
    listed = tenants.list_tokens(world.session, world.acme, marker=None, limit=100)
    assert issued.id not in {t.id for t in listed.items}


def test_bootstrap_admin_happens_once(world: World) -> None:
    assert bootstrap_admin(world.session) is None  # the world already has an admin


def test_tenant_with_objects_cannot_be_deleted(world: World) -> None:
    with pytest.raises(Conflict, match="still owns"):
        tenants.delete_tenant(world.session, world.admin, world.acme.tenant_id or "")


def test_users_page_through_all_rows(world: World) -> None:
    for index in range(7):
        tenants.create_user(
            world.session, world.admin, f"user-{index}", Role.TENANT, world.acme.tenant_id
        )
    seen: list[str] = []
    marker = None
    while True:
        page = tenants.list_users(world.session, world.admin, marker=marker, limit=3)
        seen.extend(u.name for u in page.items)
        if page.next_marker is None:
            break
        marker = page.next_marker
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 10
