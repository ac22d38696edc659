"""Self-service steering preferences (in-process): within the operator's bounds, a value
outside them refused with the API's own words, every change previewed with nothing kept, then
applied (and removed) on confirm; another tenant's site not found."""

from __future__ import annotations

import html
from typing import Any

from tests.central.api.conftest import Central
from tests.central.api.sdwan import INET, LTE, MPLS, document, new_site
from tests.central.api.test_steering import setup
from tests.central.web.conftest import Portal
from tests.central.web.test_order import customer

POLICIES = "/api/v1/steering-policies"


def test_preferences_within_bounds_previewed_then_applied(portal: Portal) -> None:
    central, acme, csrf = customer(portal, "acme")
    setup(central)
    site = new_site(central, acme, "branch", MPLS, INET, LTE)
    bounds = [{"class": "bulk", "links": ["inet", "lte"]}]
    set_ = portal.client.put(f"/api/v1/tenants/{acme.tenant_id}/steering-bounds", json=bounds,
                             headers=central.admin.headers)  # fmt: skip
    assert set_.status_code == 200, set_.text
    page = portal.client.get(f"/ui/sites/{site}/steering")
    assert page.status_code == 200, page.text
    assert "Allowed links: <strong>inet, lte</strong>" in page.text
    assert "the SLA profile is the operator&#39;s" in page.text

    def preview(**fields: str) -> Any:
        return portal.client.post(f"/ui/sites/{site}/steering/preview",
                                  data={"csrf": csrf, "class": "bulk", **fields})  # fmt: skip

    outside = preview(links="inet, mpls", action="set")
    assert outside.status_code == 403
    api = portal.client.post(POLICIES, json={"scope": "tenant", "class": "bulk",
                             "links": ["inet", "mpls"]}, headers=acme.headers)  # fmt: skip
    assert api.status_code == 403
    assert api.json()["detail"] in html.unescape(outside.text)  # the API's words
    assert 'aria-invalid="true" aria-describedby="refusal"' in outside.text
    sla = preview(links="inet", sla="loose", action="set")
    assert sla.status_code == 403
    assert "does not let it change the SLA profile" in sla.text

    shown = preview(links="lte, inet", spread="true", action="set")
    assert shown.status_code == 200, shown.text
    assert "Steers class &#39;bulk&#39; over lte, inet in that order, spread over them." in (
        shown.text)  # fmt: skip
    assert f"+      &#34;tenant&#34;: &#34;{acme.tenant_id}&#34;" in shown.text  # the diff
    assert portal.client.get(POLICIES, headers=acme.headers).json() == []  # nothing kept
    _, doc = document(central, site)
    assert "steering" not in doc

    applied = portal.client.post(f"/ui/sites/{site}/steering/apply", data={
        "csrf": csrf, "class": "bulk", "links": "lte, inet", "spread": "true", "action": "set"},
        follow_redirects=False)  # fmt: skip
    assert applied.status_code == 303, applied.text
    (mine,) = portal.client.get(POLICIES, headers=acme.headers).json()
    assert (mine["scope"], mine["links"], mine["spread"]) == ("tenant", ["lte", "inet"], True)
    _, doc = document(central, site)
    assert doc["steering"]["policies"][0]["links"] == ["lte", "inet"]
    again = portal.client.get(f"/ui/sites/{site}/steering")
    assert f'data-refresh="/ui/sites/{site}/steering/sync"' in again.text
    sync = portal.client.get(f"/ui/sites/{site}/steering/sync",
                             headers={"X-Requested-With": "edgewise"})  # fmt: skip
    revision = document(central, site)[0]
    assert f"holds revision {revision} of its desired state" in sync.text
    assert "not in sync yet" in sync.text  # no controller has applied it
    assert "Your preference: <strong>lte → inet</strong>, spread." in again.text

    removed = preview(action="remove")
    assert "Removes your preference for class &#39;bulk&#39;" in removed.text
    gone = portal.client.post(f"/ui/sites/{site}/steering/apply", data={
        "csrf": csrf, "class": "bulk", "action": "remove"}, follow_redirects=False)  # fmt: skip
    assert gone.status_code == 303
    assert portal.client.get(POLICIES, headers=acme.headers).json() == []


def test_another_tenant_s_site_has_no_steering_page(portal: Portal) -> None:
    central = Central(portal.client, portal.admin)
    other = central.tenant("other")
    theirs = new_site(central, other, "theirs", INET)
    _, _, csrf = customer(portal, "acme")
    assert portal.client.get(f"/ui/sites/{theirs}/steering").status_code == 404
    refused = portal.client.post(f"/ui/sites/{theirs}/steering/apply",
                                 data={"csrf": csrf, "class": "bulk", "links": "inet"})  # fmt: skip
    assert refused.status_code == 404
