"""Tenant scoping: the one place that decides who may see and change which rows.

Every query of a tenant-owned table goes through `visible()`; every single-row
lookup through `get_visible()` (or `sees()`, to report rather than raise); every change
through `ensure_writable()`. A tenant is its own (`TenantRow.tenant_id` is its id).
A row of another tenant is reported as not found, never as forbidden, so that
its existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, true
from sqlalchemy.orm import Session

from edgewise.central.services.errors import Forbidden, NotFound


class Role(StrEnum):
    """An operator (`admin`: every tenant, the shared catalog, the users); a tenant's admin
    (`tenant-admin`: its tenant's users and their tokens besides what a tenant user does); a
    tenant user (`tenant`: its tenant's objects, its own tokens)."""

    ADMIN = "admin"
    TENANT_ADMIN = "tenant-admin"
    TENANT = "tenant"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user with a role, bound to a tenant unless an admin."""

    user_id: str
    user_name: str
    role: Role
    tenant_id: str | None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def manages_users(self) -> bool:
        """An operator, or a tenant admin (of its own tenant's users)."""
        return self.role in (Role.ADMIN, Role.TENANT_ADMIN)


class TenantOwned(Protocol):
    id: Any
    tenant_id: Any


RowT = TypeVar("RowT")
SelectT = TypeVar("SelectT", bound=Select[Any])  # a query of whole rows


def visible(
    principal: Principal, model: type[Any], *, shared_rows: bool = False
) -> ColumnElement[bool]:
    """The WHERE clause that limits `model` to what `principal` may see.

    With `shared_rows`, rows whose tenant is NULL (the provider's shared catalog)
    are visible to every tenant.
    """
    if principal.is_admin:
        return true()
    column = model.tenant_id
    if shared_rows:
        return column.is_(None) | (column == principal.tenant_id)  # type: ignore[no-any-return]
    return column == principal.tenant_id  # type: ignore[no-any-return]


def scoped(
    query: SelectT, principal: Principal, model: type[Any], *, shared_rows: bool = False
) -> SelectT:
    return query.where(visible(principal, model, shared_rows=shared_rows))


def get_visible(
    session: Session,
    model: type[RowT],
    row_id: str,
    principal: Principal,
    *,
    what: str,
    shared_rows: bool = False,
) -> RowT:
    """The row `row_id` of `model` if `principal` may see it, else NotFound."""
    row = session.get(model, row_id)
    if row is None or not sees(principal, row, shared_rows=shared_rows):
        raise NotFound(f"{what} {row_id} does not exist")
    return row


def ensure_writable(principal: Principal, row: Any, *, what: str) -> None:
    """Tenants change only their own rows; shared (provider) rows only admins change."""
    if principal.is_admin:
        return
    if row.tenant_id is None:
        raise Forbidden(
            f"{what} {row.id} belongs to the provider's shared catalog; only an admin may change it"
        )
    if row.tenant_id != principal.tenant_id:
        raise NotFound(f"{what} {row.id} does not exist")


def owner_for_new(
    principal: Principal, requested_tenant: str | None, *, shared_allowed: bool
) -> str | None:
    """The tenant a new row belongs to: a tenant user's own; an admin's choice.

    A tenant user naming another tenant is refused; an admin naming none creates a
    shared row where that is allowed.
    """
    if not principal.is_admin:
        if requested_tenant not in (None, principal.tenant_id):
            raise Forbidden("a tenant user can create objects only in its own tenant")
        return principal.tenant_id
    if requested_tenant is None and not shared_allowed:
        raise Forbidden("an admin must name the tenant that will own this object (tenantId)")
    return requested_tenant


def require_admin(principal: Principal, action: str) -> None:
    if not principal.is_admin:
        raise Forbidden(f"only an admin may {action}")


def sees(principal: Principal, row: Any, *, shared_rows: bool = False) -> bool:
    """Whether `principal` may see `row`, a tenant-owned row (as `visible` says in SQL)."""
    if principal.is_admin:
        return True
    if shared_rows and row.tenant_id is None:
        return True
    return bool(row.tenant_id == principal.tenant_id)
