"""Signing in and out, and the dependencies every portal page stands on: `PortalDep` (the
signed-in caller, else a redirect to the sign-in page) and `checked_form` (a form whose `csrf`
field must be the session's token)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from edgewise.central.api.deps import SESSION_COOKIE, SessionDep, web_caller
from edgewise.central.config import CentralSettings
from edgewise.central.runtime import CentralRuntime
from edgewise.central.services import web_sessions
from edgewise.central.services.errors import Forbidden, Unauthenticated
from edgewise.central.services.web_sessions import WebCaller, csrf_matches
from edgewise.central.web.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)
FORM_FIELD_MAX = 4096  # characters of one ordinary form field


class SignInRequired(Exception):
    """A page asked for a signed-in caller and there is none: the handler sends the browser to
    the sign-in page (or answers 401 to a script)."""

    def __init__(self, back_to: str, reason: str) -> None:
        super().__init__(reason)
        self.back_to = back_to
        self.reason = reason


async def get_portal_caller(request: Request, session: SessionDep) -> WebCaller:
    if SESSION_COOKIE not in request.cookies:
        raise SignInRequired(_back_to(request), "")
    try:
        return await web_caller(request, session)
    except Unauthenticated as ended:
        raise SignInRequired(_back_to(request), ended.detail) from None


PortalDep = Annotated[WebCaller, Depends(get_portal_caller)]


async def check_csrf(request: Request, caller: PortalDep) -> WebCaller:
    """For a form post: its `csrf` field (or the X-CSRF-Token header of a script) must be the
    session's token, and a browser-sent Origin must be this site's."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise Forbidden(f"a form from another origin ({origin[:100]}) is refused")
    presented = request.headers.get("x-csrf-token")
    if presented is None:
        form = await request.form(max_files=0, max_fields=200)
        field = form.get("csrf")
        presented = field if isinstance(field, str) else None
    if not csrf_matches(caller, presented):
        raise Forbidden("the form's security token is missing or out of date; reload the page")
    return caller


WriterDep = Annotated[WebCaller, Depends(check_csrf)]


def _back_to(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return target if _is_local(target) else "/ui/"


def _is_local(target: str) -> bool:
    """Only a path of the portals is a place to come back to (no open redirect)."""
    return target.startswith("/ui") and not target.startswith("//") and "\\" not in target


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    next: str = "/ui/",  # noqa: A002 - the query's name
    reason: str = "",
) -> HTMLResponse:
    return render(
        request, "login.html", None, title="Sign in",
        next=next if _is_local(next[:FORM_FIELD_MAX]) else "/ui/", reason=reason[:200], error="",
        login="",
    )  # fmt: skip


@router.post("/login", response_model=None)
async def login(
    request: Request,
    session: SessionDep,
    login: Annotated[str, Form(max_length=web_sessions.LOGIN_NAME_MAX)] = "",
    password: Annotated[str, Form(max_length=web_sessions.PASSWORD_MAX)] = "",
    next: Annotated[str, Form(max_length=FORM_FIELD_MAX)] = "/ui/",  # noqa: A002 - the field
) -> Response:
    runtime: CentralRuntime = request.app.state.runtime
    settings: CentralSettings = request.app.state.settings
    address = request.client.host if request.client else "unknown"
    target = next if _is_local(next) else "/ui/"
    wait = runtime.attempts.retry_after(address)
    if wait is not None:
        return _login_refused(
            request, login, target, f"Too many failed sign-ins; try again in {wait} s.", 429
        )
    try:
        signed = await run_in_threadpool(
            web_sessions.sign_in, session, login, password, address=address,
            policy=settings.web_sessions,
        )  # fmt: skip
    except Unauthenticated as wrong:
        runtime.attempts.failed(address)
        return _login_refused(request, login, target, wrong.detail.capitalize() + ".", 401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signed.secret,
        max_age=int(settings.web_sessions.lifetime.total_seconds()),
        path="/",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )
    return response


def _login_refused(
    request: Request, login: str, target: str, error: str, status: int
) -> HTMLResponse:
    return render(
        request, "login.html", None, status_code=status, title="Sign in", next=target,
        reason="", error=error, login=login,
    )  # fmt: skip


@router.post("/logout")
def logout(session: SessionDep, caller: WriterDep) -> RedirectResponse:
    web_sessions.sign_out(session, caller.session_id)
    response = RedirectResponse("/ui/login?reason=" + quote("You are signed out."), 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
