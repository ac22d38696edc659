"""The OpenAPI document says what the API does: the bearer scheme, every ProblemDetails status,
the upload bodies, the life-cycle links; /docs works with no internet (assets from the package)."""

from __future__ import annotations

import re
from typing import Any

from tests.central.api.conftest import Central

PROBLEM = {"$ref": "#/components/schemas/ProblemDetails"}


def operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        op["operationId"]: op
        for path in spec["paths"].values()
        for method, op in path.items()
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_the_bearer_scheme_is_documented_where_it_is_needed(central: Central) -> None:
    spec = central.client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerToken"]["description"],
    }
    ops = operations(spec)
    assert ops["listTenants"]["security"] == [{"bearerToken": []}]
    assert ops["createNsInstance"]["security"] == [{"bearerToken": []}]
    assert "security" not in ops["health"]
    refused = central.client.get("/api/v1/tenants")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"


def test_every_error_the_api_answers_is_a_documented_problem(central: Central) -> None:
    spec = central.client.get("/openapi.json").json()
    assert "HTTPValidationError" not in str(spec)
    ops = operations(spec)
    expected = {
        "listTenants": {"400", "401", "403", "404", "429"},
        "createTenant": {"400", "401", "403", "404", "429", "409", "413", "415", "422"},
        "uploadNsdContent": {"400", "401", "403", "404", "429", "409", "413", "422"},
        "fetchNsdContent": {"400", "401", "403", "404", "429", "406", "416"},
        "instantiateNs": {"400", "401", "403", "404", "429", "409", "413", "415", "422"},
        "readCentral": {"401", "403", "404", "429"},
        "health": set(),
    }
    for operation_id, statuses in expected.items():
        responses = ops[operation_id]["responses"]
        errors = {status for status in responses if status >= "400"}
        assert errors == statuses, operation_id
        for status in errors:
            assert responses[status]["content"] == {"application/problem+json": {"schema": PROBLEM}}
    assert set(ops["fetchNsdContent"]["responses"]) >= {"200", "206"}
    problem = spec["components"]["schemas"]["ProblemDetails"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}


def test_uploads_document_their_request_bodies(central: Central) -> None:
    ops = operations(central.client.get("/openapi.json").json())
    nsd = ops["uploadNsdContent"]["requestBody"]
    assert nsd["required"] is True
    assert set(nsd["content"]) == {"text/plain", "application/zip"}
    package = ops["uploadVnfPackage"]["requestBody"]
    assert set(package["content"]) == {"application/zip"}
    assert package["content"]["application/zip"]["schema"]["format"] == "binary"
    assert ops["uploadVnfPackageFromUri"]["requestBody"]["required"] is True


def test_the_life_cycle_is_linked(central: Central) -> None:
    ops = operations(central.client.get("/openapi.json").json())
    created = ops["createNsInstance"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in created.values()} >= {"instantiateNs", "terminateNs"}
    started = ops["instantiateNs"]["responses"]["202"]["links"]["ReadNsLcmOpOcc"]
    assert started["parameters"]["nsLcmOpOccId"].startswith("$response.header.Location")


def test_docs_need_no_internet(central: Central) -> None:
    page = central.client.get("/docs")
    assert page.status_code == 200
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page.text), page.text
    assets = re.findall(r"(?:src|href)=[\"']([^\"']+)[\"']", page.text)
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"} <= set(assets)
    for asset in assets:
        served = central.client.get(asset)
        assert served.status_code == 200, asset
        assert served.content
    assert central.client.get("/redoc").status_code == 404
