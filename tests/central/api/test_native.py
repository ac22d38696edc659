"""The native API: tenants, users, tokens, sites and groups; validation errors as ProblemDetails."""

from __future__ import annotations

from collections.abc import Iterator

from tests.central.api.conftest import Central
from tests.central.api.sol005 import assert_schema


def test_site_create_read_update_list(central: Central) -> None:
    acme = central.tenant("acme")
    client = central.client
    created = client.post(
        "/api/v1/sites",
        json={"name": "pop-1", "kind": "cloud", "computeNodes": 3, "labels": {"region": "eu"}},
        headers=acme.headers,
    )
    assert created.status_code == 201, created.text
    site = created.json()
    assert site["capacity"] == {"computeNodes": 3, "slotsPerNode": 20, "vnfSlots": 60}
    assert site["tenantId"] == acme.tenant_id
    patched = client.patch(
        f"/api/v1/sites/{site['id']}", json={"labels": {"region": "us"}}, headers=acme.headers
    )
    assert patched.json()["labels"] == {"region": "us"}
    listed = client.get("/api/v1/sites", params={"labels": "region=us"}, headers=acme.headers)
    assert [s["id"] for s in listed.json()] == [site["id"]]
    assert (
        client.get("/api/v1/sites", params={"labels": "region=eu"}, headers=acme.headers).json()
        == []
    )


def test_sites_filter_by_name_within_what_the_caller_sees(central: Central) -> None:
    acme, globex = central.tenant("acme"), central.tenant("globex")
    client = central.client
    ids = {}
    for caller in (acme, globex):
        made = client.post(
            "/api/v1/sites", json={"name": "branch-1", "kind": "on-premise"}, headers=caller.headers
        )
        assert made.status_code == 201, made.text
        ids[caller.tenant_id] = made.json()["id"]
        client.post(
            "/api/v1/sites", json={"name": "branch-2", "kind": "cloud"}, headers=caller.headers
        )
    mine = client.get("/api/v1/sites", params={"name": "branch-1"}, headers=acme.headers)
    assert [s["id"] for s in mine.json()] == [ids[acme.tenant_id]]
    every = client.get("/api/v1/sites", params={"name": "branch-1"}, headers=central.admin.headers)
    assert sorted(s["id"] for s in every.json()) == sorted(ids.values())
    none = client.get("/api/v1/sites", params={"name": "nowhere"}, headers=acme.headers)
    assert none.json() == []


def test_bad_bodies_get_specific_problems(central: Central) -> None:
    acme = central.tenant("acme")
    response = central.client.post(
        "/api/v1/sites",
        json={
            "name": "Bad Name!",
            "kind": "moon",
            "computeNodes": 0,
            "labels": {"UP": "x"},
            "x": 1,
        },
        headers=acme.headers,
    )
    assert response.status_code == 400
    body = response.json()
    assert_schema("ProblemDetails", body)
    where = {p["where"] for p in body["problems"]}
    assert {"name", "kind", "computeNodes", "labels", "x"} <= where
    not_json = central.client.post(
        "/api/v1/sites",
        content=b"{not json",
        headers=acme.headers | {"Content-Type": "application/json"},
    )
    assert not_json.status_code == 400
    bad_selector = central.client.get(
        "/api/v1/sites", params={"labels": "nokey"}, headers=acme.headers
    )
    assert bad_selector.status_code == 400
    bad_marker = central.client.get(
        "/api/v1/sites", params={"nextpage_opaque_marker": "%%%"}, headers=acme.headers
    )
    assert bad_marker.status_code == 400


def test_sites_page_with_link_headers(central: Central) -> None:
    acme = central.tenant("acme")
    for index in range(7):
        central.client.post(
            "/api/v1/sites", json={"name": f"s{index}", "kind": "on-premise"}, headers=acme.headers
        )
    names: list[str] = []
    response = central.client.get("/api/v1/sites", params={"limit": "3"}, headers=acme.headers)
    pages = 1
    while "next" in response.links:
        names.extend(s["name"] for s in response.json())
        response = central.client.get(response.links["next"]["url"], headers=acme.headers)
        pages += 1
    names.extend(s["name"] for s in response.json())
    assert (names, pages) == ([f"s{i}" for i in range(7)], 3)


def test_tokens_are_shown_once_and_revocation_is_immediate(central: Central) -> None:
    acme = central.tenant("acme")
    client = central.client
    issued = client.post(
        "/api/v1/tokens", json={"name": "ci", "lifetimeDays": 30}, headers=acme.headers
    )
    assert issued.status_code == 201
    secret = issued.json()["token"]
    mine = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/whoami", headers=mine).json()["tenantId"] == acme.tenant_id
    listed = client.get("/api/v1/tokens", headers=acme.headers).text
    assert secret not in listed
    revoked = client.delete(f"/api/v1/tokens/{issued.json()['id']}", headers=acme.headers)
    assert revoked.json()["revokedAt"]
    refused = client.get("/api/v1/whoami", headers=mine)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


def test_a_deleted_user_is_refused_at_once_though_its_token_was_cached(central: Central) -> None:
    acme = central.tenant("acme")
    client = central.client
    assert client.get("/api/v1/whoami", headers=acme.headers).status_code == 200  # cached now
    gone = client.delete(f"/api/v1/users/{acme.user_id}", headers=central.admin.headers)
    assert gone.status_code == 204, gone.text
    refused = client.get("/api/v1/whoami", headers=acme.headers)
    assert refused.status_code == 401
    assert "not valid" in refused.json()["detail"]


def test_unknown_path_is_a_404_problem(central: Central) -> None:
    response = central.client.get("/no/such/thing", headers=central.admin.headers)
    assert response.status_code == 404
    assert_schema("ProblemDetails", response.json())


def test_openapi_is_served_with_operation_ids(central: Central) -> None:
    spec = central.client.get("/openapi.json").json()
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert all("operationId" in op for op in operations)
    assert "/nsd/v1/ns_descriptors" in spec["paths"]


def test_oversized_bodies_are_refused_before_parsing(central: Central) -> None:
    big = b'{"name": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    response = central.client.post(
        "/api/v1/tenants",
        content=big,
        headers=central.admin.headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert_schema("ProblemDetails", response.json())

    def chunks() -> Iterator[bytes]:
        for _ in range(6):
            yield b" " * (1024 * 1024)

    streamed = central.client.post(
        "/api/v1/tenants",
        content=chunks(),
        headers=central.admin.headers | {"Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
