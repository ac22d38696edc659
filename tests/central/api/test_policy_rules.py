"""Real-time policy rules over the API: a site's and a tenant's, every field read by the
contract (422 naming it), composed into each site's document (the site's own rules, then its
tenant's; a rule naming a link or class the site lacks left out, saying why), every change a
new revision; a tenant sets its own and its sites' rules only."""

from __future__ import annotations

from typing import Any

from edgewise.model.desired import DesiredState
from tests.central.api.conftest import Central
from tests.central.api.sdwan import INET, MPLS, document, new_site

SCAN = {"name": "scan", "when": {"kind": "new_flows", "flows_above": 50},
        "then": {"kind": "block", "for_s": 60}}  # fmt: skip
MPLS_DOWN = {"name": "mpls-down", "when": {"kind": "link_down", "link": "mpls"},
             "then": {"kind": "event", "message": "mpls is down"}}  # fmt: skip


def names(rules: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in rules]


def test_site_and_tenant_rules_are_composed_into_each_site_document(central: Central) -> None:
    acme = central.tenant("acme")
    client = central.client
    branch = new_site(central, acme, "branch", MPLS)
    shop = new_site(central, acme, "shop", INET)
    before = {site: document(central, site)[0] for site in (branch, shop)}

    added = client.post(f"/api/v1/tenants/{acme.tenant_id}/policy-rules", json=MPLS_DOWN,
                        headers=acme.headers)  # fmt: skip
    assert added.status_code == 201, added.text
    assert added.json()["scope"] == "tenant"
    own = client.post(f"/api/v1/sites/{branch}/policy-rules", json=SCAN, headers=acme.headers)
    assert own.status_code == 201, own.text

    revision, doc = document(central, branch)
    assert revision == before[branch] + 2
    assert names(doc["policy_rules"]) == ["scan", "mpls-down"]  # the site's, then the tenant's
    assert doc["policy_rules"][1]["tenant"] == acme.tenant_id
    assert "tenant" not in doc["policy_rules"][0]
    read_at_site = DesiredState.from_document(revision, doc).policy_rules  # the site takes it
    assert [(r.name, r.tenant) for r in read_at_site] == [
        ("scan", None),
        ("mpls-down", acme.tenant_id),
    ]
    revision, doc = document(central, shop)
    assert revision == before[shop]  # the shop has no mpls link: nothing changed there
    assert "policy_rules" not in doc
    view = client.get(f"/api/v1/sites/{shop}/policy", headers=acme.headers).json()
    assert view["rules"] == []
    assert view["leftOut"] == [{"scope": "tenant", "name": "mpls-down",
                                "reason": "the site's document has no link 'mpls'"}]  # fmt: skip

    listed = client.get(f"/api/v1/sites/{branch}/policy-rules", headers=acme.headers).json()
    assert [(r["name"], r["spec"]["then"]["for_s"]) for r in listed] == [("scan", 60)]
    assert client.delete(f"/api/v1/sites/{branch}/policy-rules/scan",
                         headers=acme.headers).status_code == 204  # fmt: skip
    assert client.delete(f"/api/v1/tenants/{acme.tenant_id}/policy-rules/mpls-down",
                         headers=acme.headers).status_code == 204  # fmt: skip
    revision, doc = document(central, branch)
    assert revision == before[branch] + 4
    assert "policy_rules" not in doc  # no rule left: the section is left out
    gone = client.get(f"/api/v1/sites/{branch}/policy-rules/scan", headers=acme.headers)
    assert gone.status_code == 404


def test_a_bad_rule_is_a_422_naming_the_field(central: Central) -> None:
    acme = central.tenant("acme")
    site = new_site(central, acme, "branch", MPLS)
    bad = {"name": "x", "when": {"kind": "new_flows", "flows_above": 0},
           "then": {"kind": "block"}}  # fmt: skip
    response = central.client.post(f"/api/v1/sites/{site}/policy-rules", json=bad,
                                   headers=acme.headers)  # fmt: skip
    assert response.status_code == 422, response.text
    problems = {p["where"]: p["message"] for p in response.json()["problems"]}
    assert "when.flows_above" in problems
    steer = {"name": "y", "when": {"kind": "link_down", "link": "mpls"},
             "then": {"kind": "rate_limit", "class": "voice", "rate": "fast"}}  # fmt: skip
    response = central.client.post(f"/api/v1/sites/{site}/policy-rules", json=steer,
                                   headers=acme.headers)  # fmt: skip
    assert response.status_code == 422
    assert [p["where"] for p in response.json()["problems"]] == ["then.rate"]
    told = central.client.post(f"/api/v1/sites/{site}/policy-rules",
                               json=SCAN | {"tenant": "other"}, headers=acme.headers)  # fmt: skip
    assert told.status_code == 422
    assert [p["where"] for p in told.json()["problems"]] == ["tenant"]


def test_a_name_is_unique_per_site_or_tenant(central: Central) -> None:
    acme = central.tenant("acme")
    site = new_site(central, acme, "branch", MPLS)
    path = f"/api/v1/sites/{site}/policy-rules"
    assert central.client.post(path, json=SCAN, headers=acme.headers).status_code == 201
    again = central.client.post(path, json=SCAN, headers=acme.headers)
    assert again.status_code == 409
    assert "scan" in again.json()["detail"]


def test_a_tenant_touches_its_own_rules_only(central: Central) -> None:
    acme = central.tenant("acme")
    globex = central.tenant("globex")
    site = new_site(central, acme, "branch", MPLS)
    client = central.client
    for path in (f"/api/v1/sites/{site}/policy-rules",
                 f"/api/v1/tenants/{acme.tenant_id}/policy-rules"):  # fmt: skip
        assert client.post(path, json=SCAN, headers=globex.headers).status_code == 404
        assert client.get(path, headers=globex.headers).status_code == 404
        assert client.post(path, json=SCAN, headers=central.admin.headers).status_code == 201
        assert client.get(f"{path}/scan", headers=acme.headers).status_code == 200
        assert client.delete(f"{path}/scan", headers=globex.headers).status_code == 404
    assert client.get(f"/api/v1/sites/{site}/policy", headers=globex.headers).status_code == 404
