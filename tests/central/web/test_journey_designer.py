"""The designer's journey in a real browser (Debian's Chromium through Playwright) against a real
central: compose firewall -> NAT with the keyboard and typed forms, see the NSD and a loader
problem that clears once fixed, publish; the NSD then instantiates on a real site controller
(sim driver) and the operation completes; its next version is published from it with the same
invariant id."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.central.web.conftest import Live, Shot, sign_in_browser
from tests.integration.harness import enroll, start_controller, stop, wait_for
from tests.integration.test_software_vnf import completed

NSDS = "nsd/v1/ns_descriptors"


def add(page: Page, label: str) -> None:
    page.get_by_label("Function to add").select_option(label=label)
    page.get_by_role("button", name="Add to the chain").press("Enter")  # the keyboard's way


def test_a_designer_publishes_a_chain_that_instantiates_then_its_next_version(
    live: Live, page: Page, shot: Shot, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    sign_in_browser(page, live.url, live.admin_login, live.admin_password)
    page.get_by_role("navigation").get_by_role("link", name="Designer").click()
    page.wait_for_selector("html[data-ready]")
    expect(page.get_by_role("heading", level=1)).to_have_text("Service designer")
    expect(page.get_by_role("status").first).to_contain_text("problem")  # an empty chain
    shot(page, "designer-empty")

    page.get_by_label("Name", exact=True).fill(f"Journey vCPE {tag}")
    page.get_by_label("Invariant id (the same for every version)").fill(f"journey-{tag}")
    add(page, "Firewall")
    add(page, "NAT")
    expect(page.locator("#path-summary")).to_have_text("Traffic path: LAN → firewall → nat → WAN")
    page.get_by_role("button", name="Move nat up").press("Enter")
    expect(page.locator("#path-summary")).to_have_text("Traffic path: LAN → nat → firewall → WAN")
    page.get_by_role("button", name="Move nat down").press("Enter")
    expect(page.locator("#path-summary")).to_have_text("Traffic path: LAN → firewall → nat → WAN")

    page.locator("#f-0-default_action").select_option("drop")
    page.get_by_role("button", name="Add a rule to firewall").press("Enter")
    page.locator("#f-0-rules-0-protocol").select_option("tcp")
    port = page.locator("#f-0-rules-0-port")
    port.fill("70000")
    validation = page.locator("#validation")
    expect(validation).to_have_text("1 problem to fix before publishing.")
    expect(page.locator("#problems")).to_contain_text(
        "descriptor.yaml:"
    )  # the file, line and column
    expect(page.locator("#problems")).to_contain_text("rules[0].port")
    expect(port).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert").first).to_contain_text("70000")
    expect(page.locator(".problem-line")).to_contain_text("port: 70000")
    expect(page.get_by_role("button", name="Publish to the catalog")).to_be_disabled()
    shot(page, "designer-problem")

    port.fill("80")
    expect(validation).to_have_text("Valid: the catalog's loader finds no problem.")
    expect(port).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#nsd-yaml")).to_contain_text("type: edgewise.nodes.Firewall")
    expect(page.locator("#nsd-yaml")).to_contain_text("port: 80")
    shot(page, "designer-valid")

    page.get_by_role("button", name="Publish to the catalog").click()
    result = page.locator("#publish-result")
    expect(result).to_contain_text("Published: NS descriptor")
    nsd_id = result.get_attribute("data-nsd-id")
    assert nsd_id
    shot(page, "designer-published")
    info = live.api.get(f"{NSDS}/{nsd_id}").json()
    assert (info["nsdOnboardingState"], info["nsdOperationalState"]) == ("ONBOARDED", "ENABLED")
    assert (info["nsdInvariantId"], info["nsdVersion"]) == (f"journey-{tag}", "1.0")

    central = live.central
    site_dir = tmp_path / "site"
    site_id = enroll(central, f"designer-{tag}", site_dir)
    controller = start_controller(site_dir)
    try:
        made = central.api.post(
            "nslcm/v1/ns_instances",
            json={"nsdId": nsd_id, "nsName": f"designed-{tag}", "tenantId": central.tenant_id},
        )
        assert made.status_code == 201, made.text
        started = central.api.post(
            f"nslcm/v1/ns_instances/{made.json()['id']}/instantiate",
            json={"nsFlavourId": "default", "additionalParamsForNs": {"sites": [site_id]}},
        )
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        wait_for(lambda: completed(central, location), 60, "the designed NS to instantiate")
        document = central.api.get(f"api/v1/sites/{site_id}/desired-state").json()
        (service,) = document["document"]["services"]
        assert service["chain"] == ["firewall", "nat"]
        (rule,) = service["vnfs"][0]["config"]["rules"]
        assert (rule["protocol"], rule["port"]) == ("tcp", 80)
    finally:
        stop(controller)

    next_link = page.get_by_role("link", name="Design its next version")
    expect(next_link).to_have_attribute("href", f"/ui/designer/{nsd_id}")
    page.get_by_role("navigation").get_by_role("link", name="Designer").click()  # or from the nav
    page.wait_for_selector("html[data-ready]")
    page.get_by_text("Or start from an NS descriptor of the catalog").click()
    page.get_by_label("Name or invariant id contains").fill(f"journey-{tag}")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_selector("html[data-ready]")
    shot(page, "designer-start-from-catalog")
    page.get_by_role("link", name=f"New version of Journey vCPE {tag} 1.0").click()
    page.wait_for_selector("html[data-ready]")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"New version of Journey vCPE {tag}")
    expect(page.get_by_label("Version", exact=True)).to_have_value("1.1")
    expect(page.get_by_label("Invariant id (the same for every version)")).to_have_value(
        f"journey-{tag}"
    )
    expect(page.get_by_label("Invariant id (the same for every version)")).to_have_attribute(
        "readonly", ""
    )
    expect(page.locator("#f-0-rules-0-port")).to_have_value("80")
    expect(validation).to_have_text("Valid: the catalog's loader finds no problem.")
    shot(page, "designer-next-version")
    version = page.get_by_label("Version", exact=True)
    version.fill("1.0")  # valid as a descriptor, but that version is published: the catalog says
    expect(page.locator("#nsd-yaml")).to_contain_text("template_version: '1.0'")
    expect(validation).to_have_text("Valid: the catalog's loader finds no problem.")
    page.get_by_role("button", name="Publish as a new version").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"version '1.0' of 'journey-{tag}' is already in the catalog"
    )
    shot(page, "designer-version-taken")
    version.fill("1.1")
    expect(page.locator("#nsd-yaml")).to_contain_text("template_version: '1.1'")
    expect(validation).to_have_text("Valid: the catalog's loader finds no problem.")
    page.get_by_role("button", name="Publish as a new version").click()
    expect(result).to_contain_text("version 1.1")
    shot(page, "designer-next-version-published")
    second = live.api.get(f"{NSDS}/{result.get_attribute('data-nsd-id')}").json()
    assert second["nsdInvariantId"] == f"journey-{tag}"
    assert second["nsdVersion"] == "1.1"
    assert second["nsdId"] != info["nsdId"]
