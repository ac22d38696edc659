"""What an operator hit: deleting a site that runs services, tenants writing the orchestrator's
desired state, sites that are not there (presence) taking part in placement and operations,
and a provider's NS spread over several tenants' sites."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.central.api.conftest import Central
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_nslcm import (
    FLAVOUR,
    NS,
    add_sites,
    create_ns,
    desired,
    follow,
    report,
)

LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
SERVICE = {
    "id": "lab",
    "name": "lab",
    "tenant": "x",
    "chain": ["fw"],
    "vnfs": [{"name": "fw", "function": "firewall", "config": {}}],
}


def instantiate(central: Central, headers: dict[str, str], ns_id: str, *sites: str) -> str:
    started = central.client.post(
        f"{NS}/{ns_id}/instantiate",
        json={"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": list(sites)}},
        headers=headers,
    )
    assert started.status_code == 202, started.text
    return started.headers["Location"]


def test_a_site_that_runs_an_ns_or_waits_for_an_operation_is_not_deleted(
    central: Central,
) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    (site,) = add_sites(central, acme, "paris")
    ns = create_ns(central, acme, nsd, "vcpe-paris")
    location = instantiate(central, acme.headers, ns["id"], site)

    during = client.delete(f"/api/v1/sites/{site}", headers=acme.headers)
    assert during.status_code == 409, during.text
    assert ns["id"] in during.json()["detail"]
    assert "vcpe-paris" in during.json()["detail"]
    assert location.rsplit("/", 1)[-1] in during.json()["detail"]

    report(central, site, desired(central, acme, site)["revision"],
           [{"id": ns["id"], "state": "ready", "vnfs": []}])  # fmt: skip
    follow(central, acme, location, "COMPLETED")
    running = client.delete(f"/api/v1/sites/{site}", headers=central.admin.headers)
    assert running.status_code == 409, running.text
    assert "terminate" in running.json()["detail"]
    assert client.get(f"/api/v1/sites/{site}", headers=acme.headers).status_code == 200

    ended = client.post(f"{NS}/{ns['id']}/terminate", json={}, headers=acme.headers)
    report(central, site, desired(central, acme, site)["revision"], [])
    follow(central, acme, ended.headers["Location"], "COMPLETED")
    assert client.delete(f"/api/v1/sites/{site}", headers=acme.headers).status_code == 204


def test_only_operators_write_raw_desired_state_and_never_an_ns_s_entry(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    (site,) = add_sites(central, acme, "paris")
    ns = create_ns(central, acme, nsd)
    instantiate(central, acme.headers, ns["id"], site)
    before = desired(central, acme, site)

    tenant = client.put(
        f"/api/v1/sites/{site}/desired-state",
        json={"default_action": "blah", "services": []},
        headers=acme.headers,
    )
    assert tenant.status_code == 403, tenant.text
    bulk = client.post(
        "/api/v1/desired-state",
        json={"siteIds": [site], "document": {"services": []}},
        headers=acme.headers,
    )
    assert bulk.status_code == 403, bulk.text

    own = dict(SERVICE, id=ns["id"], tenant=acme.tenant_id)
    forged = client.put(
        f"/api/v1/sites/{site}/desired-state",
        json={"services": [own]},
        headers=central.admin.headers,
    )
    assert forged.status_code == 422, forged.text
    assert forged.json()["problems"][0]["where"] == "services[0].id"
    assert desired(central, acme, site) == before

    mine = dict(SERVICE, tenant=acme.tenant_id)
    written = client.put(
        f"/api/v1/sites/{site}/desired-state",
        json={"services": [mine]},
        headers=central.admin.headers,
    )
    assert written.status_code == 200, written.text
    ids = [e["id"] for e in desired(central, acme, site)["document"]["services"]]
    assert sorted(ids) == sorted(["lab", ns["id"]])
    kept = next(e for e in written.json()["document"]["services"] if e["id"] == ns["id"])
    assert kept == before["document"]["services"][0]


def test_presence_is_shown_and_keeps_absent_sites_out_of_placement(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    _, gone = add_sites(central, acme, "online", "gone")
    central.bring_online([gone], last_seen=LONG_AGO)
    fresh = client.post(
        "/api/v1/sites", json={"name": "fresh", "kind": "on-premise"}, headers=acme.headers
    ).json()["id"]
    sites = client.get("/api/v1/sites", headers=acme.headers).json()
    listed = {s["name"]: s["presence"] for s in sites}
    assert listed == {"online": "online", "gone": "offline", "fresh": "never-enrolled"}
    status = client.get(f"/api/v1/sites/{gone}/status", headers=acme.headers).json()
    assert (status["presence"], status["inSync"]) == ("offline", False)
    summary = client.get("/api/v1/site-status", headers=acme.headers).json()
    assert summary["presence"] == {"online": 1, "offline": 1, "never-enrolled": 1}

    ns = create_ns(central, acme, nsd)
    plan = client.post(
        f"{NS}/{ns['id']}/placement", json={"placement": {}}, headers=acme.headers
    ).json()
    assert [c["siteName"] for c in plan["chosen"]] == ["online"]
    reasons = {r["siteName"]: r["reason"] for r in plan["rejected"]}
    assert reasons["fresh"].startswith("never enrolled")
    assert reasons["gone"].startswith("offline: not heard from since 2026-01-01")

    named = client.post(
        f"{NS}/{ns['id']}/instantiate",
        json={"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": [gone, fresh]}},
        headers=acme.headers,
    )
    assert named.status_code == 400, named.text
    lines = [p["message"] for p in named.json()["problems"]]
    assert any(line.startswith("gone: offline") for line in lines), lines
    assert any(line.startswith("fresh: never enrolled") for line in lines), lines


def test_an_operation_fails_at_once_when_a_site_goes_offline_and_rollback_never_hangs(
    central: Central,
) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    first, second = add_sites(central, acme, "first", "second")
    ns = create_ns(central, acme, nsd)
    location = instantiate(central, acme.headers, ns["id"], first, second)
    central.bring_online([second], last_seen=LONG_AGO)  # its controller stopped

    op = follow(central, acme, location, "FAILED_TEMP")  # at once: not at the 5-minute deadline
    assert f"site {second}: offline: not heard from since" in op["error"]["detail"]
    rollback = client.post(f"{location}/rollback", headers=acme.headers)
    assert rollback.status_code == 202, rollback.text
    report(central, first, desired(central, acme, first)["revision"], [])
    op = follow(central, acme, location, "FAILED_TEMP")
    assert "offline" in op["error"]["detail"]

    central.bring_online([second])  # it came back
    rollback = client.post(f"{location}/rollback", headers=acme.headers)
    assert rollback.status_code == 202, rollback.text
    for site in (first, second):
        report(central, site, desired(central, acme, site)["revision"], [])
    follow(central, acme, location, "ROLLED_BACK")


def test_a_provider_ns_goes_to_one_tenant_s_sites_only(central: Central) -> None:
    client = central.client
    acme, globex = central.tenant("acme"), central.tenant("globex")
    nsd = onboard_nsd(central, central.admin)
    (a,) = add_sites(central, acme, "a")
    (g,) = add_sites(central, globex, "g")
    ns = create_ns(central, central.admin, nsd, "provider")
    across = client.post(
        f"{NS}/{ns['id']}/instantiate",
        json={"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": [a, g]}},
        headers=central.admin.headers,
    )
    assert across.status_code == 400, across.text
    assert "one tenant's sites" in across.json()["problems"][0]["message"]
    criteria = client.post(
        f"{NS}/{ns['id']}/instantiate",
        json={"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"placement": {}}},
        headers=central.admin.headers,
    )
    assert criteria.status_code == 400, criteria.text
    alone = instantiate(central, central.admin.headers, ns["id"], a)
    assert client.get(alone, headers=central.admin.headers).json()["sitesTotal"] == 1
