"""Tenants and users: operators list and create tenants and manage any tenant's users; a tenant
admin manages its own tenant's users; a tenant user gets the API's answer (403, or 404 for
another tenant). The calls are the native API's (`services.tenants`, `services.web_sessions`),
the forms are checked by the API's own schemas (`api.schemas`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from edgewise.central.api.deps import SessionDep
from edgewise.central.api.schemas import TenantCreate, UserCreate
from edgewise.central.services import people_pages, tenants, web_sessions
from edgewise.central.services.access import Principal, Role
from edgewise.central.services.errors import Conflict, Forbidden, Invalid, NotFound
from edgewise.central.web.auth import FORM_FIELD_MAX, PortalDep, WriterDep
from edgewise.central.web.templating import redirect, render

router = APIRouter(prefix="/ui", include_in_schema=False)
PAGE_SIZE = 50
Id = Annotated[str, Path(max_length=36)]
Field = Annotated[str, Form(max_length=FORM_FIELD_MAX)]
Marker = Annotated[str, Query(max_length=2048)]
Errors = dict[str, str]


@router.get("/tenants", response_model=None)
def tenants_page(
    request: Request, session: SessionDep, caller: PortalDep, marker: Marker = ""
) -> HTMLResponse | RedirectResponse:
    """An operator's list of tenants; a tenant admin goes to its own tenant's users."""
    principal = caller.principal
    if not principal.is_admin:
        _ensure_manager(principal)
        return RedirectResponse(f"/ui/tenants/{principal.tenant_id}", status_code=303)
    return _tenants(request, session, caller, marker=marker)


@router.post("/tenants", response_model=None)
def create_tenant(
    request: Request, session: SessionDep, caller: WriterDep, name: Field = "",
    description: Field = "",
) -> HTMLResponse | RedirectResponse:  # fmt: skip
    values = {"name": name, "description": description}
    try:
        body = TenantCreate.model_validate(values)
        made = tenants.create_tenant(session, caller.principal, body.name, body.description)
    except ValidationError as bad:
        return _tenants(request, session, caller, errors=_problems(bad), values=values)
    except (Invalid, Conflict) as refused:
        return _tenants(request, session, caller, errors={"name": refused.detail}, values=values)
    return redirect(f"/ui/tenants/{made.id}", notice=f"Tenant {made.name} created.")


@router.get("/tenants/{tenant_id}", response_class=HTMLResponse)
def tenant_page(
    request: Request, tenant_id: Id, session: SessionDep, caller: PortalDep, marker: Marker = ""
) -> HTMLResponse:
    return _tenant(request, session, caller, tenant_id, marker=marker)


@router.post("/tenants/{tenant_id}/users", response_model=None)
def create_user(
    request: Request, *, tenant_id: Id, session: SessionDep, caller: WriterDep, name: Field = "",
    role: Field = Role.TENANT.value,
) -> HTMLResponse | RedirectResponse:  # fmt: skip
    principal = caller.principal
    tenant = tenants.read_tenant(session, principal, tenant_id)
    values = {"name": name, "role": role}
    try:
        body = _tenant_user(values | {"tenantId": tenant.id})
        made = tenants.create_user(session, principal, body.name, body.role, tenant.id)
    except ValidationError as bad:
        return _tenant(request, session, caller, tenant_id, errors=_problems(bad), values=values)
    except (Invalid, Conflict) as refused:
        errors = {"name": refused.detail}
        return _tenant(request, session, caller, tenant_id, errors=errors, values=values)
    return redirect(f"/ui/tenants/{tenant.id}", notice=f"User {made.name} created.")


@router.post("/tenants/{tenant_id}/users/{user_id}/password", response_model=None)
def set_password(
    request: Request, *, tenant_id: Id, user_id: Id, session: SessionDep, caller: WriterDep,
    password: Annotated[str, Form(max_length=web_sessions.PASSWORD_MAX)] = "",
) -> HTMLResponse | RedirectResponse:  # fmt: skip
    user = _user_of(session, caller.principal, tenant_id, user_id)
    try:
        web_sessions.set_password(session, caller.principal, user.id, password)
    except Invalid as refused:
        errors = {f"password-{user.id}": refused.detail}
        return _tenant(request, session, caller, tenant_id, errors=errors)
    return redirect(f"/ui/tenants/{tenant_id}", notice=f"The password of {user.name} is set.")


@router.post("/tenants/{tenant_id}/users/{user_id}/delete", response_model=None)
def delete_user(
    request: Request, tenant_id: Id, user_id: Id, session: SessionDep, caller: WriterDep
) -> HTMLResponse | RedirectResponse:
    user = _user_of(session, caller.principal, tenant_id, user_id)
    try:
        tenants.delete_user(session, caller.principal, user.id)
    except Conflict as refused:
        errors = {f"delete-{user.id}": refused.detail}
        return _tenant(request, session, caller, tenant_id, errors=errors, status=409)
    return redirect(f"/ui/tenants/{tenant_id}", notice=f"User {user.name} deleted.")


def _tenant_user(values: dict[str, str]) -> UserCreate:
    """The API's UserCreate of the form; a tenant's user is never an operator."""
    body = UserCreate.model_validate(values)
    if body.role is Role.ADMIN:
        raise Invalid("an operator belongs to no tenant: choose tenant or tenant-admin")
    return body


def _ensure_manager(principal: Principal) -> None:
    if not principal.manages_users:
        raise Forbidden("only an admin or a tenant admin may manage users")


def _user_of(session: SessionDep, principal: Principal, tenant_id: str, user_id: str) -> Any:
    """The user, if it is one of this tenant's and the caller sees it (else NotFound)."""
    user = tenants.read_user(session, principal, user_id)
    if user.tenant_id != tenant_id:
        raise NotFound(f"user {user_id} does not exist in tenant {tenant_id}")
    return user


def _problems(bad: ValidationError) -> Errors:
    """The schema's complaints by form field (the field's name and the API's words)."""
    found: Errors = {}
    for item in bad.errors():
        where = str(item["loc"][0]) if item["loc"] else "name"
        found.setdefault(where, str(item["msg"]))
    return found


def _tenants(
    request: Request, session: SessionDep, caller: PortalDep, *, marker: str = "",
    errors: Errors | None = None, values: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    found = tenants.list_tenants(session, caller.principal, marker=marker or None, limit=PAGE_SIZE)
    return render(
        request, "people/tenants.html", caller, status_code=422 if errors else 200,
        section="tenants", title="Tenants and users", tenants=found.items,
        next_marker=found.next_marker, errors=errors or {}, values=values or {},
    )  # fmt: skip


def _tenant(
    request: Request, session: SessionDep, caller: PortalDep, tenant_id: str, *,
    marker: str = "", errors: Errors | None = None, values: dict[str, str] | None = None,
    status: int = 0,
) -> HTMLResponse:  # fmt: skip
    principal = caller.principal
    tenant = tenants.read_tenant(session, principal, tenant_id)  # another tenant's: 404
    _ensure_manager(principal)
    users = people_pages.users_of(
        session, principal, tenant.id, marker=marker or None, limit=PAGE_SIZE
    )
    roles = [Role.TENANT, Role.TENANT_ADMIN]
    return render(
        request, "people/tenant.html", caller, status_code=status or (422 if errors else 200),
        section="tenants", title=f"Users of {tenant.name}", tenant=tenant, users=users.items,
        next_marker=users.next_marker, errors=errors or {}, values=values or {}, roles=roles,
    )  # fmt: skip
