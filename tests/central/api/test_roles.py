"""Roles and tenant scoping of the native API: an operator, a tenant's admin, a tenant user;
nothing of one tenant (its user names, its site groups) shows in another's answers."""

from __future__ import annotations

from typing import Any

from tests.central.api.conftest import Caller, Central
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_rollouts import fleet

USERS, TOKENS = "/api/v1/users", "/api/v1/tokens"


def member(central: Central, of: Caller, name: str, role: str, by: Caller | None = None) -> Caller:
    """A user of `of`'s tenant with `role`, made by `by` (default: the operator), and a token."""
    maker = (by or central.admin).headers
    made = central.client.post(
        USERS, json={"name": name, "role": role, "tenantId": of.tenant_id}, headers=maker
    )
    assert made.status_code == 201, made.text
    user_id = made.json()["id"]
    token = central.client.post(TOKENS, json={"name": "t", "userId": user_id}, headers=maker)
    assert token.status_code == 201, token.text
    return Caller({"Authorization": f"Bearer {token.json()['token']}"}, of.tenant_id, user_id)


def test_a_tenant_user_mints_tokens_only_for_itself_and_sees_only_its_own(
    central: Central,
) -> None:
    client, acme = central.client, central.tenant("acme")  # acme: a tenant user
    peer = member(central, acme, "peer", "tenant")
    stolen = client.post(TOKENS, json={"name": "x", "userId": peer.user_id}, headers=acme.headers)
    assert stolen.status_code == 403, stolen.text  # before: 201, a token of another user
    assert "only for itself" in stolen.json()["detail"]
    own = client.post(TOKENS, json={"name": "mine"}, headers=acme.headers)
    assert own.status_code == 201
    listed = client.get(TOKENS, headers=acme.headers).json()
    assert {t["userId"] for t in listed} == {acme.user_id}
    peers = client.get(TOKENS, headers=peer.headers).json()
    revoke = client.delete(f"{TOKENS}/{peers[0]['id']}", headers=acme.headers)
    assert revoke.status_code == 404
    made = client.post(USERS, json={"name": "x", "role": "tenant"}, headers=acme.headers)
    assert made.status_code == 403
    assert client.delete(f"{USERS}/{peer.user_id}", headers=acme.headers).status_code == 403


def test_a_tenant_admin_manages_its_tenants_users_and_their_tokens_only(
    central: Central,
) -> None:
    client, acme, globex = central.client, central.tenant("acme"), central.tenant("globex")
    boss = member(central, acme, "boss", "tenant-admin")
    assert client.get("/api/v1/whoami", headers=boss.headers).json()["role"] == "tenant-admin"
    worker = member(central, acme, "worker", "tenant", by=boss)
    assert client.get("/api/v1/whoami", headers=worker.headers).json()["tenantId"] == (
        acme.tenant_id
    )
    other_boss = member(central, acme, "boss2", "tenant-admin")
    refused = client.post(TOKENS, json={"name": "x", "userId": other_boss.user_id},
                          headers=boss.headers)  # fmt: skip
    assert refused.status_code == 403
    spy = {"name": "spy", "role": "tenant", "tenantId": globex.tenant_id}
    elsewhere = client.post(USERS, json=spy, headers=boss.headers)
    assert elsewhere.status_code == 403
    operator = client.post(USERS, json={"name": "root2", "role": "admin"}, headers=boss.headers)
    assert operator.status_code == 403
    foreign = client.post(TOKENS, json={"name": "x", "userId": globex.user_id},
                          headers=boss.headers)  # fmt: skip
    assert foreign.status_code == 404
    assert {t["userId"] for t in client.get(TOKENS, headers=boss.headers).json()} >= {
        worker.user_id,
        acme.user_id,
    }
    assert client.delete(f"{USERS}/{worker.user_id}", headers=boss.headers).status_code == 204


def test_user_names_are_per_tenant_so_another_tenants_names_do_not_show(
    central: Central,
) -> None:
    client = central.client
    acme, globex = central.tenant("acme"), central.tenant("globex")
    boss = member(central, acme, "boss", "tenant-admin")
    member(central, globex, "alice", "tenant")
    # before: 409 "a user named 'alice' already exists", though alice is globex's
    mine = client.post(USERS, json={"name": "alice", "role": "tenant"}, headers=boss.headers)
    assert mine.status_code == 201, mine.text
    again = client.post(USERS, json={"name": "alice", "role": "tenant"}, headers=boss.headers)
    assert again.status_code == 409
    assert "in this tenant" in again.json()["detail"]
    admin = client.post(USERS, json={"name": "admin", "role": "admin"},
                        headers=central.admin.headers)  # fmt: skip
    assert admin.status_code == 409  # operators' names are unique among operators


def test_a_rollout_naming_another_tenants_site_group_answers_as_for_no_such_group(
    central: Central,
) -> None:
    client, acme, globex = central.client, central.tenant("acme"), central.tenant("globex")
    nsd = onboard_nsd(central, central.admin)
    fleet(central, acme, eu=1)
    theirs = fleet(central, globex, eu=1)
    group = client.post("/api/v1/site-groups", json={"name": "g", "siteIds": list(theirs.values())},
                        headers=globex.headers).json()["id"]  # fmt: skip

    def rollout(group_id: str) -> Any:
        body = {"name": "r", "nsdId": nsd, "group": group_id}
        return client.post("/api/v1/rollouts", json=body, headers=acme.headers)

    foreign, random = rollout(group), rollout("no-such-group")
    assert foreign.status_code == random.status_code == 400
    assert foreign.json() | {"problems": None, "detail": None} == random.json() | {
        "problems": None,
        "detail": None,
    }
    assert foreign.json()["detail"] == random.json()["detail"]
    assert foreign.json()["problems"][0]["message"].replace(group, "G") == random.json()[
        "problems"
    ][0]["message"].replace("no-such-group", "G")
