"""Tenants, their users and API tokens: the native API's use cases; what it shows are views
(`services.views`), the rows stay here and with the other services."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from edgewise.central.services.access import (
    Principal,
    Role,
    get_visible,
    owner_for_new,
    require_admin,
    scoped,
)
from edgewise.central.services.auth import IssuedToken, issue_token
from edgewise.central.services.errors import Conflict, Forbidden, Invalid, NotFound
from edgewise.central.services.paging import Page, fetch_page
from edgewise.central.services.views import ApiToken, Tenant, User
from edgewise.central.store.tables import (
    ApiTokenRow,
    CatalogItemRow,
    SiteGroupRow,
    SiteRow,
    TenantRow,
    UserRow,
    utcnow,
)


def create_tenant(session: Session, principal: Principal, name: str, description: str) -> Tenant:
    require_admin(principal, "create tenants")
    if session.scalar(select(TenantRow.id).where(TenantRow.name == name)):
        raise Conflict(f"a tenant named {name!r} already exists")
    row = TenantRow(name=name, description=description)
    session.add(row)
    _flush_unique(session, f"a tenant named {name!r} already exists")
    return Tenant.of(row)


def list_tenants(
    session: Session, principal: Principal, *, marker: str | None, limit: int
) -> Page[Tenant]:
    query = scoped(select(TenantRow), principal, TenantRow)
    order = (TenantRow.name, TenantRow.id)
    return fetch_page(session, query, order, marker=marker, limit=limit).map(Tenant.of)


def get_tenant(session: Session, principal: Principal, tenant_id: str) -> TenantRow:
    """The tenant's row if `principal` sees it (the other services check owners with it)."""
    return get_visible(session, TenantRow, tenant_id, principal, what="tenant")


def read_tenant(session: Session, principal: Principal, tenant_id: str) -> Tenant:
    return Tenant.of(get_tenant(session, principal, tenant_id))


def delete_tenant(session: Session, principal: Principal, tenant_id: str) -> None:
    require_admin(principal, "delete tenants")
    row = get_tenant(session, principal, tenant_id)
    for model, what in (
        (SiteRow, "sites"),
        (SiteGroupRow, "site groups"),
        (CatalogItemRow, "catalog items"),
        (UserRow, "users"),
    ):
        owned = session.scalar(
            select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
        )
        if owned:
            raise Conflict(f"tenant {row.name!r} still owns {owned} {what}; delete them first")
    session.delete(row)


def create_user(
    session: Session, principal: Principal, name: str, role: Role, tenant_id: str | None
) -> User:
    """A user. Operators create any; a tenant admin creates its own tenant's users; a tenant
    user none. Names are unique within a tenant (and among operators): a name taken in another
    tenant is no concern of this one."""
    if not principal.manages_users:
        raise Forbidden("only an admin or a tenant admin may create users")
    if role is Role.ADMIN:
        require_admin(principal, "create admin users")
        if tenant_id is not None:
            raise Invalid("an admin user belongs to no tenant; leave tenantId out")
        owner = None
    else:
        owner = owner_for_new(principal, tenant_id, shared_allowed=False)
        get_tenant(session, principal, owner or "")
    same_owner = UserRow.tenant_id.is_(None) if owner is None else UserRow.tenant_id == owner
    taken = f"a user named {name!r} already exists " + ("among the operators" if owner is None
                                                          else "in this tenant")  # fmt: skip
    if session.scalar(select(UserRow.id).where(UserRow.name == name, same_owner)):
        raise Conflict(taken)
    row = UserRow(name=name, role=role.value, tenant_id=owner)
    session.add(row)
    _flush_unique(session, taken)
    return User.of(row)


def list_users(
    session: Session, principal: Principal, *, marker: str | None, limit: int
) -> Page[User]:
    query = scoped(select(UserRow), principal, UserRow)
    order = (UserRow.name, UserRow.id)
    return fetch_page(session, query, order, marker=marker, limit=limit).map(User.of)


def get_user(session: Session, principal: Principal, user_id: str) -> UserRow:
    return get_visible(session, UserRow, user_id, principal, what="user")


def read_user(session: Session, principal: Principal, user_id: str) -> User:
    return User.of(get_user(session, principal, user_id))


def delete_user(session: Session, principal: Principal, user_id: str) -> None:
    row = get_user(session, principal, user_id)
    if not principal.manages_users:
        raise Forbidden("only an admin or a tenant admin may delete users")
    if row.id == principal.user_id:
        raise Conflict("you cannot delete your own user; ask another admin")
    if row.role == Role.ADMIN.value:
        require_admin(principal, "delete admin users")
    session.delete(row)


def create_token(
    session: Session,
    principal: Principal,
    name: str,
    *,
    user_id: str | None,
    lifetime_days: int | None,
) -> IssuedToken:
    """A new token for `user_id` (default: the caller). A tenant user mints only its own; a
    tenant admin also its tenant's users'; an admin's or a tenant admin's token only that one
    (or, for a tenant admin, an operator) creates."""
    user = get_user(session, principal, user_id or principal.user_id)
    if user.id != principal.user_id:
        if not principal.manages_users:
            raise Forbidden("a tenant user can create tokens only for itself")
        if user.role == Role.ADMIN.value:
            raise Forbidden("a token for an admin can only be created by that admin")
        if user.role == Role.TENANT_ADMIN.value and not principal.is_admin:
            raise Forbidden("a token for a tenant admin is created by that admin or an operator")
    lifetime = timedelta(days=lifetime_days) if lifetime_days else None
    return issue_token(session, user, name, lifetime=lifetime)


def list_tokens(
    session: Session, principal: Principal, *, marker: str | None, limit: int
) -> Page[ApiToken]:
    """An admin's: all; a tenant admin's: its tenant's; a tenant user's: its own."""
    query = scoped(select(ApiTokenRow), principal, ApiTokenRow)
    if not principal.manages_users:
        query = query.where(ApiTokenRow.user_id == principal.user_id)
    order = (ApiTokenRow.created_at, ApiTokenRow.id)
    return fetch_page(session, query, order, marker=marker, limit=limit).map(ApiToken.of)


def revoke_token(session: Session, principal: Principal, token_id: str) -> ApiToken:
    row = get_visible(session, ApiTokenRow, token_id, principal, what="token")
    if not principal.manages_users and row.user_id != principal.user_id:
        raise NotFound(f"token {token_id} does not exist")  # another user's: as if none
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return ApiToken.of(row)


def _flush_unique(session: Session, message: str) -> None:
    """Flushes; a unique-constraint race becomes a Conflict instead of a 500."""
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(message) from exc
