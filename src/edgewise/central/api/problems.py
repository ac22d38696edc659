"""Every error leaves the API as an ETSI SOL005 / RFC 7807 ProblemDetails document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from edgewise.central.services.catalog_content import NotAcceptableContent
from edgewise.central.services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    Stale,
    TooManyAttempts,
    Unauthenticated,
    Unprocessable,
)

PROBLEM_TYPE = "application/problem+json"

STATUS_OF: dict[type[ServiceError], int] = {
    NotAcceptableContent: 406,
    Invalid: 400,
    Unprocessable: 422,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Stale: 412,
    TooManyAttempts: 429,
}
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def problem(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://edgewise.dev/problems/{status}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def status_of(error: ServiceError) -> int:
    """The HTTP status a service error is answered with (the portals use it too)."""
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


async def _service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    status = status_of(error)
    extra: dict[str, Any] | None = None
    if isinstance(error, Invalid) and error.problems:
        extra = {"problems": [{"where": p.where, "message": p.message} for p in error.problems]}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(error, TooManyAttempts):
        headers = {"Retry-After": str(error.retry_after)}
    return problem(status, error.detail, instance=request.url.path, extra=extra, headers=headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    if any(item.get("loc") == ("body",) and isinstance(item.get("input"), bytes)
           for item in error.errors()):  # fmt: skip
        # FastAPI reads a body as JSON only when it says it is: this one did not
        declared = request.headers.get("content-type")
        sent = f"not {declared}" if declared else "and it had no Content-Type"
        return problem(
            415,
            f"the request body must be JSON (Content-Type: application/json), {sent}",
            instance=request.url.path,
            extra={"problems": [{"where": "Content-Type", "message": "send application/json"}]},
        )
    problems = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ()) if part != "body"]
        where = ".".join(location)
        problems.append({"where": where, "message": str(item.get("msg", "is not valid"))})
    summary = "; ".join(
        f"{p['where']}: {p['message']}" if p["where"] else p["message"] for p in problems
    )
    return problem(
        400,
        f"the request is not valid: {summary}",
        instance=request.url.path,
        extra={"problems": problems},
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = str(error.detail)
    if error.status_code == 404 and detail == "Not Found":
        detail = f"there is no resource at {request.url.path}"
    if error.status_code == 405:
        detail = f"{request.method} is not supported on {request.url.path}"
    return problem(error.status_code, detail, instance=request.url.path, headers=error.headers)


def install_problem_handlers(app: FastAPI) -> None:
    """The errors routes raise; what nothing handles is logged and answered by `requestids`."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
