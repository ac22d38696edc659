"""Every request body and query is bounded at the edge: deep or non-finite JSON, huge integers,
forged page markers and malformed filters get a 400 naming what is wrong, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.central.api.conftest import Central
from tests.central.api.sol005 import assert_schema

JSON = {"Content-Type": "application/json"}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def test_deep_user_data_is_refused_and_the_lists_keep_working(central: Central) -> None:
    tenant = central.tenant("deep")
    for caller in (tenant.headers, central.admin.headers):
        refused = central.client.post(
            "/nsd/v1/ns_descriptors", json={"userDefinedData": nested(500)}, headers=caller
        )
        assert refused.status_code == 400, refused.text
        assert_schema("ProblemDetails", refused.json())
        (where,) = [p["where"] for p in refused.json()["problems"]]
        assert where.startswith("userDefinedData.a.a")
        assert "nested more than 32 levels" in refused.json()["detail"]
    accepted = central.client.post(
        "/vnfpkgm/v1/vnf_packages", json={"userDefinedData": nested(20)}, headers=tenant.headers
    )
    assert accepted.status_code == 201, accepted.text
    for path in ("/nsd/v1/ns_descriptors", "/vnfpkgm/v1/vnf_packages"):
        for caller in (tenant.headers, central.admin.headers):
            listed = central.client.get(path, params={"all_fields": ""}, headers=caller)
            assert listed.status_code == 200, listed.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"userDefinedData": {"x": NaN}}',
        b'{"userDefinedData": {"x": Infinity}}',
        b'{"userDefinedData": {"x": -Infinity}}',
        b'{"userDefinedData": {"x": 1e400}}',
        b'{"userDefinedData": {"x": 1180591620717411303424}}',
        b'{"userDefinedData": {"x": ' + b"9" * 5000 + b"}}",
        b'{"userDefinedData": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"userDefinedData": {"x": 1}',
        b"\xff\xfe{}",
    ],
    ids=["nan", "inf", "-inf", "1e400", "2**70", "5000-digits", "5000-deep", "cut", "utf16"],
)
def test_json_that_cannot_be_stored_faithfully_is_a_400(central: Central, body: bytes) -> None:
    response = central.client.post(
        "/nsd/v1/ns_descriptors", content=body, headers=central.admin.headers | JSON
    )
    assert response.status_code == 400, response.text
    assert_schema("ProblemDetails", response.json())
    assert response.json()["problems"][0]["where"].startswith(("body", "userDefinedData"))


def test_every_json_body_is_bounded_not_only_the_catalogs(central: Central) -> None:
    tenant = central.tenant("bounded")
    site = central.client.post(
        "/api/v1/sites", json={"name": "edge-1", "kind": "on-premise"}, headers=tenant.headers
    )
    assert site.status_code == 201, site.text
    for method, path, body in (
        ("PUT", f"/api/v1/sites/{site.json()['id']}/desired-state", nested(100)),
        ("POST", "/nsd/v1/subscriptions", {"callbackUri": "http://x", "filter": nested(100)}),
        ("POST", "/nslcm/v1/ns_instances/x/instantiate", {"additionalParamsForNs": nested(40)}),
    ):
        response = central.client.request(method, path, json=body, headers=central.admin.headers)
        assert response.status_code == 400, (path, response.text)
        assert "nested more than 32 levels" in response.json()["detail"]
