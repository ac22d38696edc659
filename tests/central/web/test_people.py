"""Tenants and users pages: an operator creates tenants and their users, sets a password (the
user signs in with it), deletes a user; a tenant admin manages its own tenant's users only; a
tenant user gets the API's 403; bad input is named by field."""

from __future__ import annotations

import re

from tests.central.api.conftest import Central
from tests.central.web.conftest import ADMIN_PASSWORD, Portal


def user_ids(page: str) -> list[str]:
    return re.findall(r'<tr data-user="([^"]+)"', page)


def test_an_operator_creates_a_tenant_and_its_users(portal: Portal) -> None:
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    client = portal.client
    assert "Create a tenant" in client.get("/ui/tenants").text
    bad = client.post("/ui/tenants", data={"csrf": csrf, "name": "Not Valid!"})
    assert bad.status_code == 422
    assert "Name: String should match pattern" in bad.text
    assert 'id="name" name="name" type="text" maxlength="63" value="Not Valid!"' in bad.text
    assert 'aria-invalid="true" aria-describedby="name-error"' in bad.text
    made = client.post(
        "/ui/tenants", data={"csrf": csrf, "name": "acme", "description": "Acme Corp"},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303
    tenant_url = made.headers["location"]
    tenant_id = tenant_url.rsplit("/", 1)[-1]
    page = client.get(tenant_url)
    assert "Tenant acme created." in page.text  # the notice, once
    assert "Users of acme" in page.text
    twice = client.post("/ui/tenants", data={"csrf": csrf, "name": "acme"})
    assert twice.status_code == 422
    assert "a tenant named &#39;acme&#39; already exists" in twice.text
    listed = client.get("/ui/tenants").text
    assert f'href="/ui/tenants/{tenant_id}">acme</a>' in listed
    added = client.post(
        f"{tenant_url}/users", data={"csrf": csrf, "name": "alice", "role": "tenant-admin"},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code == 303
    users = client.get("/api/v1/users", headers=portal.admin.headers).json()
    alice = next(u for u in users if u["name"] == "alice")
    assert (alice["role"], alice["tenantId"]) == ("tenant-admin", tenant_id)
    as_admin = client.post(f"{tenant_url}/users", data={"csrf": csrf, "name": "x", "role": "admin"})
    assert as_admin.status_code == 422
    assert "an operator belongs to no tenant" in as_admin.text
    assert user_ids(client.get(tenant_url).text) == [alice["id"]]
    short = client.post(
        f"{tenant_url}/users/{alice['id']}/password", data={"csrf": csrf, "password": "short"}
    )
    assert short.status_code == 422
    assert "Password of alice: a password needs at least 12 characters" in short.text
    set_ = client.post(
        f"{tenant_url}/users/{alice['id']}/password",
        data={"csrf": csrf, "password": "alice-password-1"}, follow_redirects=False,
    )  # fmt: skip
    assert set_.status_code == 303
    gone = client.post(
        f"{tenant_url}/users/{alice['id']}/delete", data={"csrf": csrf}, follow_redirects=False
    )
    assert gone.status_code == 303
    assert user_ids(client.get(tenant_url).text) == []


def test_a_tenant_admin_manages_its_own_tenants_users_only(portal: Portal) -> None:
    central = Central(portal.client, portal.admin)
    acme, globex = central.tenant("acme"), central.tenant("globex")
    portal.user("boss", "boss-password-12", tenant_id=acme.tenant_id, role="tenant-admin")
    csrf = portal.sign_in("boss@acme", "boss-password-12")
    client = portal.client
    assert 'href="/ui/tenants">Users</a>' in client.get("/ui/").text
    landing = client.get("/ui/tenants", follow_redirects=False)
    assert landing.headers["location"] == f"/ui/tenants/{acme.tenant_id}"
    own = client.get(f"/ui/tenants/{acme.tenant_id}").text
    assert "acme-user" in own
    assert "globex-user" not in own
    added = client.post(
        f"/ui/tenants/{acme.tenant_id}/users", data={"csrf": csrf, "name": "carol"},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code == 303
    set_ = client.post(
        f"/ui/tenants/{acme.tenant_id}/users/{acme.user_id}/password",
        data={"csrf": csrf, "password": "acme-password-1"}, follow_redirects=False,
    )  # fmt: skip
    assert set_.status_code == 303
    for url in (
        f"/ui/tenants/{globex.tenant_id}",
        f"/ui/tenants/{acme.tenant_id}/users/{globex.user_id}/delete",
    ):
        answer = client.post(url, data={"csrf": csrf}) if "delete" in url else client.get(url)
        assert answer.status_code == 404, url
        assert "globex" not in answer.text
    in_other = client.post(
        f"/ui/tenants/{globex.tenant_id}/users", data={"csrf": csrf, "name": "z"}
    )
    assert in_other.status_code == 404
    forged = client.get(f"/ui/tenants/{acme.tenant_id}?marker=forged")
    assert forged.status_code == 400
    assert "the page marker is not one this server issued" in forged.text
    names = [u["name"] for u in client.get("/api/v1/users", headers=portal.admin.headers).json()]
    assert "z" not in names
    assert "carol" in names
    portal.sign_in("acme-user@acme", "acme-password-1")  # the password it set signs in


def test_a_tenant_user_gets_the_apis_403(portal: Portal) -> None:
    central = Central(portal.client, portal.admin)
    acme = central.tenant("acme")
    portal.user("dave", "dave-password-12", tenant_id=acme.tenant_id, role="tenant")
    csrf = portal.sign_in("dave@acme", "dave-password-12")
    for url in ("/ui/tenants", f"/ui/tenants/{acme.tenant_id}"):
        answer = portal.client.get(url)
        assert answer.status_code == 403, url
        assert "only an admin or a tenant admin may manage users" in answer.text
    made = portal.client.post(
        f"/ui/tenants/{acme.tenant_id}/users", data={"csrf": csrf, "name": "mallory"}
    )
    assert made.status_code == 403
    assert "only an admin or a tenant admin may create users" in made.text
    refused = portal.client.post("/ui/tenants", data={"csrf": csrf, "name": "mine"})
    assert refused.status_code == 403
