"""Steering over the API: operators' SLA profiles, classes and policies (fleet, site), tenants'
preferences within bounds, and the effective steering each site's document carries."""

from __future__ import annotations

from typing import Any

from tests.central.api.conftest import Caller, Central
from tests.central.api.sdwan import INET, LTE, MPLS, document, new_site

VOICE = {"name": "voice", "protocol": "udp", "ports": [5060, 10000]}
BULK = {"name": "bulk", "dscp": 8}
REALTIME = {"name": "realtime", "max_latency_ms": 150, "max_loss_percent": 1}
LOOSE = {"name": "loose", "max_loss_percent": 10}


def setup(central: Central) -> None:
    admin = central.admin.headers
    for path, body in (
        ("sla-profiles", REALTIME),
        ("sla-profiles", LOOSE),
        ("app-classes", VOICE),
        ("app-classes", BULK),
    ):
        made = central.client.post(f"/api/v1/{path}", json=body, headers=admin)
        assert made.status_code == 201, made.text


def policy(central: Central, caller: Caller, **body: Any) -> Any:
    return central.client.post("/api/v1/steering-policies", json=body, headers=caller.headers)


def test_fleet_then_site_policy_compose_each_sites_steering(central: Central) -> None:
    acme = central.tenant("acme")
    setup(central)
    both = new_site(central, acme, "both", MPLS, INET)
    lte_only = new_site(central, acme, "lte-only", LTE)
    bare = new_site(central, acme, "bare")
    made = policy(
        central,
        central.admin,
        scope="fleet",
        **{"class": "voice"},
        links=["mpls", "inet"],
        sla="realtime",
    )
    assert made.status_code == 201, made.text
    revision, doc = document(central, both)
    assert revision == 3
    assert doc["steering"]["policies"] == [
        {"class": "voice", "links": ["mpls", "inet"], "sla": "realtime", "spread": False}
    ]
    empty: dict[str, list[str]] = {
        "port_ranges": [],
        "prefixes": [],
        "applications": [],
        "hosts": [],
    }
    assert doc["steering"]["classes"] == [VOICE | empty]
    assert [p["name"] for p in doc["steering"]["sla_profiles"]] == ["realtime"]
    assert "steering" not in document(central, lte_only)[1]  # no link of its list there
    assert document(central, bare)[0] == 0  # no links: not touched at all
    view = central.client.get(f"/api/v1/sites/{lte_only}/steering", headers=acme.headers).json()
    assert view["steering"] is None
    assert view["leftOut"] == [
        {
            "scope": "fleet",
            "class": "voice",
            "reason": "none of its links (mpls, inet) is a link of this site",
        }
    ]
    site_policy = policy(
        central, central.admin, scope="site", siteId=lte_only, **{"class": "voice"}, links=["lte"]
    )
    assert site_policy.status_code == 201, site_policy.text
    _, doc = document(central, lte_only)
    assert doc["steering"]["policies"] == [{"class": "voice", "links": ["lte"], "spread": False}]
    assert document(central, both)[0] == 3  # the site policy reached only its site
    wrong = policy(
        central, central.admin, scope="site", siteId=both, **{"class": "voice"}, links=["lte"]
    )
    assert wrong.status_code == 422
    assert wrong.json()["problems"] == [
        {"where": "links[0]", "message": f"'lte' is not a link of site {both}"}
    ]
    # a change to the profile recomposes the sites carrying it, and only them
    changed = central.client.patch(
        "/api/v1/sla-profiles/realtime", json={"max_jitter_ms": 30}, headers=central.admin.headers
    )
    assert changed.status_code == 200, changed.text
    assert document(central, both)[0] == 4
    assert document(central, lte_only)[0] == 2  # its own policy has no SLA: not rewritten
    in_use = central.client.delete("/api/v1/sla-profiles/realtime", headers=central.admin.headers)
    assert in_use.status_code == 409
    assert made.json()["id"] in in_use.text
    removal = central.client.delete(
        f"/api/v1/sites/{lte_only}/links/lte", headers=central.admin.headers
    )
    assert removal.status_code == 409
    assert "voice" in removal.text


def test_bad_fields_are_named_as_the_contract_names_them(central: Central) -> None:
    setup(central)
    client, admin = central.client, central.admin.headers
    bad_class = client.post("/api/v1/app-classes", json={"name": "x", "ports": [80]}, headers=admin)
    assert bad_class.status_code == 422
    assert [p["where"] for p in bad_class.json()["problems"]] == ["ports"]
    bad_profile = client.post("/api/v1/sla-profiles", json={"name": "y"}, headers=admin)
    assert bad_profile.status_code == 422
    refused = policy(
        central, central.admin, scope="fleet", **{"class": "nope"}, links=["a", "a"], sla="none"
    )
    assert refused.status_code == 422
    assert {p["where"] for p in refused.json()["problems"]} == {"links[1]", "class", "sla"}


def test_tenant_preferences_stay_within_the_bounds_the_operator_sets(central: Central) -> None:
    acme = central.tenant("acme")
    globex = central.tenant("globex")
    setup(central)
    site = new_site(central, acme, "branch", MPLS, INET, LTE)
    client = central.client
    policy(central, central.admin, scope="fleet", **{"class": "bulk"}, links=["lte"], sla="loose")
    unbounded = policy(central, acme, scope="tenant", **{"class": "bulk"}, links=["inet"])
    assert unbounded.status_code == 403
    assert "no bound" in unbounded.text
    bounds = [{"class": "bulk", "links": ["inet", "lte"], "mayChangeSla": False}]
    assert (
        client.put(
            f"/api/v1/tenants/{acme.tenant_id}/steering-bounds", json=bounds, headers=acme.headers
        ).status_code
        == 403
    )
    bounds = [{"class": "bulk", "links": ["inet", "lte"]}]
    set_ = client.put(
        f"/api/v1/tenants/{acme.tenant_id}/steering-bounds",
        json=bounds,
        headers=central.admin.headers,
    )
    assert set_.status_code == 200, set_.text
    assert set_.json() == [{"class": "bulk", "links": ["inet", "lte"], "mayChangeSla": False}]
    outside = policy(central, acme, scope="tenant", **{"class": "bulk"}, links=["inet", "mpls"])
    assert outside.status_code == 403
    assert "links[1]" in outside.text
    assert "'mpls'" in outside.text
    assert "inet, lte" in outside.text
    sla = policy(central, acme, scope="tenant", **{"class": "bulk"}, links=["inet"], sla="loose")
    assert sla.status_code == 403
    assert "sla" in sla.text
    mine = policy(
        central, acme, scope="tenant", **{"class": "bulk"}, links=["inet", "lte"], spread=True
    )
    assert mine.status_code == 201, mine.text
    _, doc = document(central, site)
    assert doc["steering"]["policies"] == [
        {
            "class": "bulk",
            "links": ["inet", "lte"],
            "sla": "loose",
            "spread": True,
            "tenant": acme.tenant_id,
        },
        {"class": "bulk", "links": ["lte"], "sla": "loose", "spread": False},
    ]
    # isolation: globex sees neither acme's bounds nor its preference
    assert (
        client.get(
            f"/api/v1/tenants/{acme.tenant_id}/steering-bounds", headers=globex.headers
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/steering-policies/{mine.json()['id']}", headers=globex.headers
        ).status_code
        == 404
    )
    listed = client.get("/api/v1/steering-policies", headers=globex.headers).json()
    assert [p["scope"] for p in listed] == ["fleet"]
    foreign = policy(
        central,
        globex,
        scope="tenant",
        tenantId=acme.tenant_id,
        **{"class": "bulk"},
        links=["inet"],
    )
    assert foreign.status_code == 403
    fleet_change = policy(central, acme, scope="fleet", **{"class": "voice"}, links=["inet"])
    assert fleet_change.status_code == 403
    # narrowing the bound drops the preference's links outside it at the site
    client.put(
        f"/api/v1/tenants/{acme.tenant_id}/steering-bounds",
        json=[{"class": "bulk", "links": ["lte"]}],
        headers=central.admin.headers,
    )
    _, doc = document(central, site)
    assert doc["steering"]["policies"][0]["links"] == ["lte"]
    assert (
        client.delete(
            f"/api/v1/steering-policies/{mine.json()['id']}", headers=acme.headers
        ).status_code
        == 204
    )
    _, doc = document(central, site)
    assert len(doc["steering"]["policies"]) == 1


def test_the_catalogue_of_applications_is_listed_for_everyone(central: Central) -> None:
    acme = central.tenant("acme")
    listed = central.client.get("/api/v1/applications", headers=acme.headers)
    assert listed.status_code == 200
    by_name = {a["name"]: a for a in listed.json()}
    assert by_name["sip"] == {"name": "sip", "appId": 5, "category": "voice",
                              "description": "SIP voice signalling"}  # fmt: skip
    refused = central.client.post("/api/v1/app-classes", headers=central.admin.headers,
                                  json={"name": "x", "applications": ["myspace"]})  # fmt: skip
    assert refused.status_code == 422
    assert "applications[0]" in refused.text
