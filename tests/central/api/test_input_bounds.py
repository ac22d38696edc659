"""Every request body and query is bounded at the edge: deep or non-finite JSON, huge integers,
forged page markers and malformed filters get a 400 naming what is wrong, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from edgewise.central.services.paging import encode_marker
from tests.central.api.conftest import Central
from tests.central.api.sol005 import assert_schema
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_nslcm import add_sites

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
        b'{"userDefinedData": {"x": [' + b"0," * 600_000 + b"0]}}",
        b'{"userDefinedData": {"x": "a\\u0000b"}}',
        b"\xff\xfe{}",
    ],
    ids=[
        "nan",
        "inf",
        "-inf",
        "1e400",
        "2**70",
        "5000-digits",
        "5000-deep",
        "cut",
        "600k-values",
        "nul",
        "utf16",
    ],
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


LISTS = (
    "/api/v1/tenants", "/api/v1/users", "/api/v1/tokens", "/api/v1/sites", "/api/v1/site-groups",
    "/api/v1/rollouts", "/nsd/v1/ns_descriptors", "/vnfpkgm/v1/vnf_packages",
    "/nslcm/v1/ns_instances", "/nslcm/v1/ns_lcm_op_occs", "/nsd/v1/subscriptions",
)  # fmt: skip


@pytest.mark.parametrize(
    "marker",
    [
        encode_marker([2**70, "x"]),
        encode_marker([1]),
        encode_marker([1, 2]),
        encode_marker(["x", "y", "z"]),
        encode_marker([None, None]),
        encode_marker([[], {}]),
        "%%%",
        "W1tbW1tbW1tbW1tbW1tbW1tbW1tb",
        "x" * 5000,
    ],
)
def test_forged_page_markers_are_a_400_naming_the_marker(central: Central, marker: str) -> None:
    central.tenant("lister")  # one of each native list at least
    central.client.post("/nsd/v1/ns_descriptors", json={}, headers=central.admin.headers)
    for path in LISTS:
        response = central.client.get(
            path,
            params={"nextpage_opaque_marker": marker, "limit": 1},
            headers=central.admin.headers,
        )
        assert response.status_code == 400, (path, response.text)
        assert_schema("ProblemDetails", response.json())
        assert response.json()["problems"][0]["where"] == "nextpage_opaque_marker"


def test_the_token_list_pages_like_the_others(central: Central) -> None:
    ids = set()
    for index in range(4):
        token = central.client.post(
            "/api/v1/tokens", json={"name": f"t{index}"}, headers=central.admin.headers
        )
        assert token.status_code == 201, token.text
        ids.add(token.json()["id"])
    seen: list[str] = []
    url: str | None = "/api/v1/tokens?limit=1"
    for _ in range(10):  # bounded: 5 tokens, one a page
        if url is None:
            break
        page = central.client.get(url, headers=central.admin.headers)
        assert page.status_code == 200, page.text
        assert len(page.json()) == 1
        seen += [t["id"] for t in page.json()]
        link = page.headers.get("Link")
        url = link.split(">", 1)[0].lstrip("<") if link else None
    assert url is None
    assert len(seen) == len(set(seen)) == 5  # the admin's first token and the four new
    assert ids <= set(seen)
    forged = central.client.get(
        "/api/v1/tokens",
        params={"nextpage_opaque_marker": encode_marker(["not-a-time", "x"])},
        headers=central.admin.headers,
    )
    assert forged.status_code == 400, forged.text


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"filter": "(gte,id,)"}, "filter"),
        ({"filter": "(gt,nsdId,)"}, "filter"),
        ({"filter": "(lt,nsdId,a,b)"}, "filter"),
        ({"filter": "(eq,nsdName,)"}, "filter"),
        ({"filter": "(eq,nsdName)"}, "filter"),
        ({"filter": "(foo,nsdName,x)"}, "filter"),
        ({"filter": "(eq,nope,x)"}, "filter"),
        ({"filter": "eq,nsdName,x"}, "filter"),
        ({"nsdName.gt": ""}, "nsdName.gt"),
        ({"nsdName.gt": "a,b"}, "nsdName.gt"),
        ({"nsdName.zz": "a"}, "nsdName.zz"),
        ({"nope": "a"}, "nope"),
        ({"fields": "nope"}, "fields"),
        ({"exclude_fields": "nope/x"}, "exclude_fields"),
    ],
)
def test_malformed_filters_are_a_400_naming_the_parameter(
    central: Central, params: dict[str, str], parameter: str
) -> None:
    for body in ({}, {"userDefinedData": {"k": "v"}}):
        created = central.client.post(
            "/nsd/v1/ns_descriptors", json=body, headers=central.admin.headers
        )
        assert created.status_code == 201
    response = central.client.get(
        "/nsd/v1/ns_descriptors", params=params, headers=central.admin.headers
    )
    assert response.status_code == 400, response.text
    assert_schema("ProblemDetails", response.json())
    assert response.json()["problems"][0]["where"] == parameter


def test_nul_characters_are_refused_before_any_store_sees_them(central: Central) -> None:
    """PostgreSQL stores no NUL in text or JSON: a NUL is a 400 naming where, on every store."""
    tenant = central.tenant("nul")
    for path, body, where in (
        ("/api/v1/desired-state", {"siteIds": ["a\x00b"], "document": {}}, "siteIds[0]"),
        ("/nsd/v1/ns_descriptors", {"userDefinedData": {"k": "v\x00"}}, "userDefinedData.k"),
        ("/nsd/v1/ns_descriptors", {"userDefinedData": {"k\x00": 1}}, "userDefinedData"),
        ("/api/v1/tenants", {"name": "\x00"}, "name"),
    ):
        response = central.client.post(path, json=body, headers=tenant.headers)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["problems"][0]["where"] == where
    for url, where in (
        ("/api/v1/sites/a%00b", "path"),
        ("/api/v1/sites?group=a%00b", "group"),
        ("/nsd/v1/ns_descriptors?nsdName=%00", "nsdName"),
    ):
        response = central.client.get(url, headers=tenant.headers)
        assert response.status_code == 400, (url, response.text)
        assert response.json()["problems"][0]["where"] == where


def test_a_rollout_failure_budget_past_what_the_store_keeps_is_a_400(central: Central) -> None:
    tenant = central.tenant("budget")
    nsd = onboard_nsd(central, tenant)
    add_sites(central, tenant, "edge-1")
    for budget in (2**31, 2**40):
        response = central.client.post(
            "/api/v1/rollouts",
            json={"name": "wide", "nsdId": nsd, "maxFailures": budget},
            headers=tenant.headers,
        )
        assert response.status_code == 400, response.text
        assert response.json()["problems"][0]["where"] == "maxFailures"


def test_a_json_operation_given_another_media_type_is_a_415(central: Central) -> None:
    for content_type in ("text/plain", "application/xml", None):
        headers = central.admin.headers | ({"Content-Type": content_type} if content_type else {})
        response = central.client.post("/api/v1/tenants", content=b'{"name": "x"}', headers=headers)
        assert response.status_code == 415, response.text
        assert_schema("ProblemDetails", response.json())
        assert response.json()["problems"][0]["where"] == "Content-Type"
    assert central.client.get("/api/v1/tenants", headers=central.admin.headers).json() == []
