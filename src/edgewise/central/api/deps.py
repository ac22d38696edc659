"""Dependency aliases that make routes read like prose: `SessionDep`, `CallerDep`, `PageDep`.

Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency on a worker
thread, a hop that costs more than the work.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.config import CentralSettings
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.runtime import CentralRuntime
from edgewise.central.services.access import Principal
from edgewise.central.services.auth import bearer_digest, principal_of
from edgewise.central.services.errors import Forbidden, TooManyAttempts, Unauthenticated
from edgewise.central.services.web_sessions import WebCaller, csrf_matches, session_caller
from edgewise.tosca import TypeCache

log = logging.getLogger(__name__)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error.

    The dependency is function-scoped, so the commit happens before the response is
    sent: a failed commit is reported to the caller, never hidden behind a 2xx. Making the
    session costs no I/O, so it happens on the event loop; the commit (or the rollback) and
    the close run in one worker-thread hop (a sync generator would take two), or none when
    there is nothing to wait for (see `_ended`).
    """
    factory: sessionmaker[Session] = request.app.state.sessions
    session = factory()
    reads_sqlite = request.method in READ_METHODS and factory.kw["bind"].dialect.name == "sqlite"
    try:
        yield session
    except BaseException:
        await _ended(session, commit=False, on_loop=reads_sqlite)
        raise
    await _ended(session, commit=True, on_loop=reads_sqlite)


READ_METHODS = frozenset({"GET", "HEAD"})


async def _ended(session: Session, *, commit: bool, on_loop: bool) -> None:
    """Ends the request's transaction: on the loop when it did not use the store, or only
    read an embedded SQLite store (ending a read transaction there releases a snapshot, no
    I/O to wait for); else on a worker thread (a write's commit, or a database server)."""
    if not session.in_transaction():
        session.close()
    elif on_loop and not CentralRuntime.holds_writer_lock(session):  # (a GET that wrote: hop)
        _end(session, commit=commit)
    else:
        await run_in_threadpool(_end, session, commit=commit)


def _end(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    description="An API token (`edgewise token create`, or the first admin's admin.token)",
)


async def get_caller(
    request: Request,
    session: SessionDep,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """The caller, from the replica's token cache when it saw the token lately (no lookup and
    no worker-thread hop), else from the store. An address that failed too often lately is
    refused (429) before its token is looked at; each failure is logged, without the token.
    `BEARER` only documents the scheme (OpenAPI's security); the header itself is read here,
    so its problems are told precisely. Without an Authorization header, a portal's session
    cookie is the credential (see `web_caller`)."""
    runtime: CentralRuntime = request.app.state.runtime
    address = request.client.host if request.client else "unknown"
    wait = runtime.attempts.retry_after(address)
    if wait is not None:
        raise TooManyAttempts(f"too many failed token attempts from {address}; retry later", wait)
    if not authorization and SESSION_COOKIE in request.cookies:
        return (await web_caller(request, session)).principal
    try:
        digest = bearer_digest(authorization)
        cached = runtime.tokens.get(digest)
        if cached is not None:
            return cached
        principal, expires = await run_in_threadpool(principal_of, session, digest)
    except Unauthenticated as refused:
        if authorization:  # a credential was tried (no header at all is no guess)
            runtime.attempts.failed(address)
            log.warning("failed token attempt from %s: %s", address, refused.detail)
        raise
    runtime.tokens.put(digest, principal, expires)
    return principal


SESSION_COOKIE = "edgewise_session"
CSRF_HEADER = "X-CSRF-Token"


async def web_caller(request: Request, session: Session) -> WebCaller:
    """The portal session behind the request's cookie (memoised on the request). A write
    (any method but GET, HEAD, OPTIONS) must carry the session's CSRF token in the
    `X-CSRF-Token` header or, from a form, in its `csrf` field (checked by the web layer)."""
    known: WebCaller | None = getattr(request.state, "web_caller", None)
    if known is not None:
        return known
    settings: CentralSettings = request.app.state.settings
    secret = request.cookies.get(SESSION_COOKIE, "")
    caller = await run_in_threadpool(session_caller, session, secret, policy=settings.web_sessions)
    writes_api = request.method not in SAFE_METHODS and request.url.path.startswith(API_PATHS)
    if writes_api and not csrf_matches(caller, request.headers.get(CSRF_HEADER)):
        raise Forbidden(
            f"a write signed in by the portal's cookie needs the session's {CSRF_HEADER} "
            "header (the page's csrf token)"
        )
    request.state.web_caller = caller
    return caller


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_PATHS = ("/api/", "/nsd/", "/vnfpkgm/", "/nslcm/", "/nsfm/", "/nspm/")


CallerDep = Annotated[Principal, Depends(get_caller)]


async def get_settings(request: Request) -> CentralSettings:
    settings: CentralSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[CentralSettings, Depends(get_settings)]


@dataclass(frozen=True)
class PageRequest:
    marker: str | None
    limit: int


async def get_page_request(
    settings: SettingsDep,
    nextpage_opaque_marker: Annotated[
        str | None, Query(description="Marker from the previous page's Link header")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="Items per page")] = None,
) -> PageRequest:
    return PageRequest(nextpage_opaque_marker, limit or settings.page_size)


PageDep = Annotated[PageRequest, Depends(get_page_request)]


async def get_runtime(request: Request) -> CentralRuntime:
    runtime: CentralRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[CentralRuntime, Depends(get_runtime)]


async def get_nsds(request: Request) -> NsdModels:
    """The process's parsed NSD models (the orchestrator's cache, passed in)."""
    runtime: CentralRuntime = request.app.state.runtime
    return runtime.nsds


NsdsDep = Annotated[NsdModels, Depends(get_nsds)]


async def get_types(request: Request) -> TypeCache:
    """The process's parsed TOSCA type files (what onboarding reuses across packages)."""
    runtime: CentralRuntime = request.app.state.runtime
    return runtime.types


TypesDep = Annotated[TypeCache, Depends(get_types)]
