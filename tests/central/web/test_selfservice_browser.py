"""Self-service in a real browser (no site controller needed): the order form generated from a
third-party VNF's typed inputs, checked as the customer types with the API's field paths and
words; steering preferences refused outside the operator's bounds with the API's words, then
previewed and applied within them. Screenshots of each page."""

from __future__ import annotations

import secrets

from playwright.sync_api import Page, expect

from tests.central.api.sdwan import INET, LTE, MPLS
from tests.central.api.test_software_vnfs import nsd_text
from tests.central.web.conftest import Live, Shot, sign_in_browser
from tests.integration.test_software_vnf import onboard
from tests.tosca.softpkg import package, vnfd

PASSWORD = "customer-password-9"


def customer_with_site(live: Live, tag: str) -> tuple[str, str]:
    """A tenant, its customer `dana`, and its site with three links; (tenant id, site id)."""
    tenant = live.api.post("api/v1/tenants", json={"name": f"t{tag}"})
    assert tenant.status_code == 201, tenant.text
    tenant_id: str = tenant.json()["id"]
    user = live.api.post("api/v1/users", json={"name": "dana", "role": "tenant",
                                               "tenantId": tenant_id})  # fmt: skip
    assert user.status_code == 201, user.text
    answer = live.api.put(f"api/v1/users/{user.json()['id']}/password",
                          json={"password": PASSWORD})  # fmt: skip
    assert answer.status_code == 204, answer.text
    site = live.api.post("api/v1/sites", json={"name": f"branch-{tag}", "kind": "on-premise",
                                               "tenantId": tenant_id})  # fmt: skip
    assert site.status_code == 201, site.text
    site_id: str = site.json()["id"]
    for link in (MPLS, INET, LTE):
        added = live.api.post(f"api/v1/sites/{site_id}/links", json=link)
        assert added.status_code == 201, added.text
    return tenant_id, site_id


def test_a_customer_s_order_form_and_steering_preferences(
    live: Live, page: Page, shot: Shot
) -> None:
    tag = secrets.token_hex(3)
    vnfd_id = f"example-dns-{tag}"
    onboard(live.central, "vnfpkgm/v1/vnf_packages", "package_content",
            package(vnfd(vnfd_id=vnfd_id)), "application/zip")  # fmt: skip
    nsd = onboard(live.central, "nsd/v1/ns_descriptors", "nsd_content",
                  nsd_text(vnfd_id, f"dns-nsd-{tag}"), "text/plain")  # fmt: skip
    tenant_id, site_id = customer_with_site(live, tag)
    made = live.api.post("api/v1/app-classes", json={"name": f"bulk{tag}", "dscp": 8})
    assert made.status_code == 201, made.text
    bounds = [{"class": f"bulk{tag}", "links": ["inet", "lte"]}]
    assert live.api.put(f"api/v1/tenants/{tenant_id}/steering-bounds",
                        json=bounds).status_code == 200  # fmt: skip

    sign_in_browser(page, live.url, f"dana@t{tag}", PASSWORD)
    page.get_by_role("link", name="Order a service").click()
    page.locator(f'a[href="/ui/order/{nsd}"]').click()
    page.wait_for_url(f"**/ui/order/{nsd}")
    page.wait_for_selector("form[data-live]")
    port = page.get_by_label("dns: port")
    expect(port).to_have_attribute("type", "number")
    expect(port).to_have_attribute("max", "65535")
    page.get_by_label("Name of the service").fill("resolver")
    page.get_by_label("Site").select_option(site_id)
    port.fill("70000")
    expect(port).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#err-p\\.dns\\.port")).to_have_text(
        "additionalParamsForVnf[0].additionalParams.port: 70000 does not satisfy "
        "in_range [1, 65535]")  # fmt: skip
    expect(page.locator("#err-p\\.dns\\.domain")).to_contain_text("missing: the VNFD requires it")
    shot(page, "order-form-typed-problems")
    port.fill("5353")
    page.get_by_label("dns: domain").fill("lan.example")
    expect(port).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#err-p\\.dns\\.domain")).to_have_text("")
    shot(page, "order-form-valid")

    page.get_by_role("link", name="Order a service").click()
    shot(page, "order-list-with-own-sites")
    page.get_by_role("link", name=f"Steering preferences at branch-{tag}").click()
    links = page.get_by_label("Links, in order of preference")
    links.fill("inet, mpls")
    page.get_by_role("button", name="Preview the change").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"links[1]: link 'mpls' is outside the tenant's bound for class 'bulk{tag}' "
        "(links inet, lte)")  # fmt: skip
    shot(page, "steering-refused")
    page.get_by_label("Links, in order of preference").fill("lte, inet")
    page.get_by_role("button", name="Preview the change").click()
    expect(page.locator("#change-sentence")).to_contain_text(
        f"Steers class 'bulk{tag}' over lte, inet in that order."
    )
    expect(page.locator("#steering-diff")).to_contain_text(f'"tenant": "{tenant_id}"')
    shot(page, "steering-preview")
    page.get_by_role("button", name="Apply the change").click()
    expect(page.get_by_role("status").first).to_contain_text("Applied: Steers class")
    expect(page.locator("#effective")).to_contain_text('"lte"')
    shot(page, "steering-applied")
    document = live.api.get(f"api/v1/sites/{site_id}/desired-state").json()["document"]
    assert document["steering"]["policies"][0]["links"] == ["lte", "inet"]
