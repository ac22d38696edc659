"""The API's OpenAPI document and its documentation pages, made once from the routes: the
ProblemDetails each operation can answer (by what the route declares), the bearer-token scheme,
the life-cycle links; Swagger UI served from the package (no CDN), under /docs."""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security.base import SecurityBase
from pydantic import BaseModel, ConfigDict, Field
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from edgewise.central.api.problems import PROBLEM_TYPE

DOCS_ASSETS = "/docs/assets"
PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}
BINARY = {"type": "string", "format": "binary"}
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WHY = {
    400: "the request is malformed; `problems` names each parameter or field and why",
    401: "no valid bearer token",
    403: "the caller's role or tenant may not do this",
    404: "the resource, or one the request names, does not exist or is not the caller's",
    406: "the content is not available in a type the Accept header allows",
    409: "the resource's state does not allow this now",
    412: "the resource changed since the caller read it (If-Match)",
    413: "the request body is larger than the limit",
    415: "the request body is not of a media type this operation reads (JSON)",
    416: "the range lies outside the content",
    422: "well formed, but what it names does not work (a callback, a package, a type)",
    429: "too many failed token attempts from this address; retry after Retry-After",
}


class InputProblem(BaseModel):
    where: str = Field(description="the parameter, header or body field (a dotted path)")
    message: str


class ProblemDetails(BaseModel):
    """RFC 7807 / ETSI SOL005 ProblemDetails: every error the API answers."""

    model_config = ConfigDict(extra="allow", title="ProblemDetails")
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    problems: list[InputProblem] | None = Field(
        default=None, description="Edgewise: each thing wrong with the request"
    )


# The NS life cycle, for clients and for stateful tests: create -> instantiate -> operation
# occurrence -> terminate -> delete. Location holds the occurrence's URI (SOL005: no body).
OCCURRENCE = "$response.header.Location#regex:/ns_lcm_op_occs/([^/?#]+)$"
NS_ID = {"nsInstanceId": "$response.body#/id"}
LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("createNsInstance", "201"): {
        "ReadNsInstance": {"operationId": "readNsInstance", "parameters": NS_ID},
        "InstantiateNs": {"operationId": "instantiateNs", "parameters": NS_ID},
        "TerminateNs": {"operationId": "terminateNs", "parameters": NS_ID},
        "DeleteNsInstance": {"operationId": "deleteNsInstance", "parameters": NS_ID},
    },
    **{
        (operation, "202"): {
            "ReadNsLcmOpOcc": {
                "operationId": "readNsLcmOpOcc",
                "parameters": {"nsLcmOpOccId": OCCURRENCE},
            },
        }
        for operation in ("instantiateNs", "terminateNs", "healNs", "scaleNs", "updateNs")
    },
    ("readNsLcmOpOcc", "200"): {
        "ReadNsInstance": {
            "operationId": "readNsInstance",
            "parameters": {"nsInstanceId": "$response.body#/nsInstanceId"},
        },
        "TerminateNs": {
            "operationId": "terminateNs",
            "parameters": {"nsInstanceId": "$response.body#/nsInstanceId"},
        },
    },
}


def install_openapi(app: FastAPI) -> None:
    """The OpenAPI document at /openapi.json and Swagger UI at /docs, its assets served from the
    swagger-ui-bundle package (make the app with docs_url=None, redoc_url=None)."""
    app.openapi = lambda: _document(app)  # type: ignore[method-assign]
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API documentation",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )


def _document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)  # errors are ProblemDetails, 400 not 422
    schemas.pop("ValidationError", None)
    problem_schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas |= problem_schema.pop("$defs") | {"ProblemDetails": problem_schema}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in context.methods or ():
            operation = document["paths"][context.path_format][method.lower()]
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's; a 422 here is a ProblemDetails (below)
            if _content_download(route):
                responses["200"]["content"] = {"*/*": {"schema": BINARY}}
                if "range" in _headers(route):
                    responses["206"] = {
                        "description": "Partial Content: the byte range asked for",
                        "content": {"*/*": {"schema": BINARY}},
                    }
            for status in problem_statuses(route, method):
                responses[str(status)] = {
                    "description": f"{HTTPStatus(status).phrase}: {WHY[status]}",
                    "content": {PROBLEM_TYPE: {"schema": PROBLEM_REF}},
                }
            for (operation_id, answer), links in LINKS.items():
                if operation.get("operationId") == operation_id and answer in responses:
                    responses[answer]["links"] = links
    app.openapi_schema = document
    return document


def problem_statuses(route: APIRoute, method: str) -> list[int]:
    """The error statuses an operation can answer, from what its route declares: parameters and
    bodies (400, 413, 422; 415 for JSON), a caller (401, 403, 404, 429, 409 on writes), content
    negotiation (406), ranges (416), preconditions (412)."""
    dependant = route.dependant
    headers = _headers(route)
    parameters = any(
        getattr(param.field_info, "include_in_schema", True)
        for d in _walk(dependant)
        for param in (*d.query_params, *d.path_params, *d.header_params)
    )
    body = bool(dependant.body_params) or "requestBody" in (route.openapi_extra or {})
    secured = any(isinstance(d.call, SecurityBase) for d in _walk(dependant))
    statuses = set()
    if parameters or body:
        statuses.add(400)
    if secured:
        statuses |= {401, 403, 404, 429}  # 429: too many failed tokens from the address
        if method in WRITES:
            statuses.add(409)
    if body:
        statuses |= {413, 422}
    if dependant.body_params:  # JSON: anything else is refused with 415
        statuses.add(415)
    if "accept" in headers:
        statuses.add(406)
    if "range" in headers:
        statuses.add(416)
    if "if-match" in headers:
        statuses.add(412)
    return sorted(statuses)


def _headers(route: APIRoute) -> set[str]:
    return {param.alias.lower() for d in _walk(route.dependant) for param in d.header_params}


def _content_download(route: APIRoute) -> bool:
    """A route that answers with stored content (a descriptor, a package, an artifact)."""
    return "GET" in (route.methods or ()) and bool({"accept", "range"} & _headers(route))


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _walk(child)
