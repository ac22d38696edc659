"""Native API: tenants, users and API tokens. Routes call `services.tenants` and format the
views it returns with the Public schemas (`api.schemas`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from edgewise.central.api.deps import CallerDep, PageDep, SessionDep
from edgewise.central.api.listing import page_response
from edgewise.central.api.schemas import (
    PasswordSet,
    TenantCreate,
    TenantPublic,
    TokenCreate,
    TokenIssued,
    TokenPublic,
    UserCreate,
    UserPublic,
    dump,
)
from edgewise.central.services import tenants, web_sessions

router = APIRouter(prefix="/api/v1", tags=["tenants, users and tokens"])


@router.get("/tenants", operation_id="listTenants", response_model=list[TenantPublic])
def list_tenants(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    found = tenants.list_tenants(session, caller, marker=page.marker, limit=page.limit)
    items = [dump(TenantPublic.of(t)) for t in found.items]
    return page_response(request, items, found.next_marker)


@router.post("/tenants", status_code=201, operation_id="createTenant")
def create_tenant(body: TenantCreate, session: SessionDep, caller: CallerDep) -> TenantPublic:
    return TenantPublic.of(tenants.create_tenant(session, caller, body.name, body.description))


@router.get("/tenants/{tenantId}", operation_id="readTenant")
def read_tenant(tenantId: str, session: SessionDep, caller: CallerDep) -> TenantPublic:
    return TenantPublic.of(tenants.read_tenant(session, caller, tenantId))


@router.delete("/tenants/{tenantId}", status_code=204, operation_id="deleteTenant")
def delete_tenant(tenantId: str, session: SessionDep, caller: CallerDep) -> Response:
    tenants.delete_tenant(session, caller, tenantId)
    return Response(status_code=204)


@router.get("/users", operation_id="listUsers", response_model=list[UserPublic])
def list_users(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    found = tenants.list_users(session, caller, marker=page.marker, limit=page.limit)
    items = [dump(UserPublic.of(u)) for u in found.items]
    return page_response(request, items, found.next_marker)


@router.post("/users", status_code=201, operation_id="createUser")
def create_user(body: UserCreate, session: SessionDep, caller: CallerDep) -> UserPublic:
    return UserPublic.of(tenants.create_user(session, caller, body.name, body.role, body.tenant_id))


@router.get("/users/{userId}", operation_id="readUser")
def read_user(userId: str, session: SessionDep, caller: CallerDep) -> UserPublic:
    return UserPublic.of(tenants.read_user(session, caller, userId))


@router.put("/users/{userId}/password", status_code=204, operation_id="setUserPassword")
def set_user_password(
    userId: str, body: PasswordSet, session: SessionDep, caller: CallerDep
) -> Response:
    """Sets the password the user signs in to the portals with (one's own, a tenant admin's
    users', an operator anyone's); the user's portal sessions end."""
    web_sessions.set_password(session, caller, userId, body.password)
    return Response(status_code=204)


@router.delete("/users/{userId}", status_code=204, operation_id="deleteUser")
def delete_user(userId: str, session: SessionDep, caller: CallerDep) -> Response:
    tenants.delete_user(session, caller, userId)
    return Response(status_code=204)


@router.get("/tokens", operation_id="listTokens", response_model=list[TokenPublic])
def list_tokens(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    found = tenants.list_tokens(session, caller, marker=page.marker, limit=page.limit)
    items = [dump(TokenPublic.of(t)) for t in found.items]
    return page_response(request, items, found.next_marker)


@router.post("/tokens", status_code=201, operation_id="createToken")
def create_token(body: TokenCreate, session: SessionDep, caller: CallerDep) -> TokenIssued:
    issued = tenants.create_token(
        session, caller, body.name, user_id=body.user_id, lifetime_days=body.lifetime_days
    )
    return TokenIssued(
        id=issued.id,
        name=issued.name,
        user_id=issued.user_id,
        token=issued.secret,
        expires_at=issued.expires_at,
    )


@router.delete("/tokens/{tokenId}", operation_id="revokeToken")
def revoke_token(tokenId: str, session: SessionDep, caller: CallerDep) -> TokenPublic:
    return TokenPublic.of(tenants.revoke_token(session, caller, tokenId))


@router.get("/whoami", operation_id="whoAmI")
def who_am_i(caller: CallerDep) -> dict[str, Any]:
    return {
        "userId": caller.user_id,
        "userName": caller.user_name,
        "role": caller.role.value,
        "tenantId": caller.tenant_id,
    }
