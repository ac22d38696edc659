"""`install_web(app)`: the portals' routes, their static files, their error pages and their
security headers, added to the central's app by the process root (serve.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from edgewise.central.api.problems import status_of
from edgewise.central.services.errors import ServiceError
from edgewise.central.web import areas, auth
from edgewise.central.web.templating import HERE, render, wants_fragment

PREFIX = "/ui"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
Handler = Callable[[Request, Exception], Awaitable[Response]]


def install_web(app: FastAPI) -> None:
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="web-static")
    app.include_router(auth.router)
    for router in areas.ROUTERS:
        app.include_router(router)
    app.add_exception_handler(auth.SignInRequired, _sign_in_required)
    for kind in (ServiceError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, _portal_errors(app.exception_handlers[kind]))

    @app.middleware("http")
    async def portal_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith(PREFIX):
            response.headers.update(SECURITY_HEADERS)
            if not request.url.path.startswith(f"{PREFIX}/static"):
                response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=307)


async def _sign_in_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, auth.SignInRequired)
    if wants_fragment(request):
        return JSONResponse({"detail": error.reason or "sign in"}, status_code=401)
    query = {"next": error.back_to}
    if error.reason:
        query["reason"] = error.reason
    return RedirectResponse(f"{PREFIX}/login?{urlencode(query)}", status_code=303)


def _portal_errors(api_handler: Any) -> Handler:
    """Errors of a portal page become an HTML page saying what went wrong (with the same
    status the API would give); the API keeps its ProblemDetails."""

    async def handle(request: Request, error: Exception) -> Response:
        if not request.url.path.startswith(PREFIX) or wants_fragment(request):
            response: Response = await api_handler(request, error)
            return response
        status, detail = _status_and_detail(error)
        caller = getattr(request.state, "web_caller", None)
        return render(
            request, "error.html", caller, status_code=status, title=f"Error {status}",
            status=status, detail=detail,
        )  # fmt: skip

    return handle


def _status_and_detail(error: Exception) -> tuple[int, str]:
    if isinstance(error, ServiceError):
        return status_of(error), error.detail
    if isinstance(error, RequestValidationError):
        where = [
            ".".join(str(p) for p in item.get("loc", ())[1:]) + ": " + str(item.get("msg", ""))
            for item in error.errors()[:10]
        ]
        return 422, "; ".join(where) or "the request is not valid"
    if isinstance(error, StarletteHTTPException):
        return error.status_code, str(error.detail)
    return 500, "unexpected error"
