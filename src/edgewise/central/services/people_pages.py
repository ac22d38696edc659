"""The portals' read of a tenant's users (`web.people`): one page of the users of one tenant,
scoped like the native API's user list (`services.access`); the changes are
`services.tenants` and `services.web_sessions`, as the API's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, scoped
from edgewise.central.services.paging import Page, fetch_page
from edgewise.central.services.tenants import get_tenant
from edgewise.central.services.views import User
from edgewise.central.store.tables import UserRow


def users_of(
    session: Session, principal: Principal, tenant_id: str, *, marker: str | None, limit: int
) -> Page[User]:
    """A page of the users of `tenant_id` by name (NotFound unless `principal` sees it)."""
    tenant = get_tenant(session, principal, tenant_id)
    query = scoped(select(UserRow), principal, UserRow).where(UserRow.tenant_id == tenant.id)
    order = (UserRow.name, UserRow.id)
    return fetch_page(session, query, order, marker=marker, limit=limit).map(User.of)
