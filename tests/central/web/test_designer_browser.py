"""The designer's forms in a real browser: a list of records (firewall rules) added, reordered and
removed with the keyboard, a scalar-unit property checked by the loader, an onboarded VNF
package's VNF in the chain with its flavour; and no script or style refused by the page's
content security policy."""

from __future__ import annotations

import uuid

from playwright.sync_api import ConsoleMessage, Page, expect

from tests.central.web.conftest import Live, Shot, sign_in_browser
from tests.integration.test_software_vnf import onboard
from tests.tosca.softpkg import package, vnfd


def test_rules_move_with_the_keyboard_and_a_package_s_vnf_joins_the_chain(
    live: Live, page: Page, shot: Shot
) -> None:
    tag = uuid.uuid4().hex[:8]
    onboard(live.central, "vnfpkgm/v1/vnf_packages", "package_content",
            package(vnfd(vnfd_id=f"browser-dns-{tag}")), "application/zip")  # fmt: skip
    refused: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            refused.append(message.text)  # (a failed load is told by its response, below)

    page.on("console", note)
    page.on(
        "response",
        lambda answer: (
            refused.append(f"{answer.status} {answer.url}")
            if answer.status >= 400 and not answer.url.endswith("/favicon.ico")  # (the shell's)
            else None
        ),
    )
    sign_in_browser(page, live.url, live.admin_login, live.admin_password)
    page.goto(f"{live.url}/ui/designer")
    page.wait_for_selector("html[data-ready]")
    page.get_by_label("Name", exact=True).fill(f"Forms {tag}")
    page.get_by_label("Function to add").select_option(label="Firewall")
    page.get_by_role("button", name="Add to the chain").press("Enter")
    add_rule = page.get_by_role("button", name="Add a rule to firewall")
    add_rule.press("Enter")
    page.locator("#f-0-rules-0-protocol").select_option("tcp")
    page.locator("#f-0-rules-0-port").fill("22")
    add_rule.press("Enter")
    expect(page.locator("#f-0-rules-1-action")).to_be_focused()  # the new rule's first field
    page.locator("#f-0-rules-1-action").select_option("drop")
    page.locator("#f-0-rules-1-protocol").select_option("udp")
    page.locator("#f-0-rules-1-port").fill("53")
    page.get_by_role("button", name="Move rule 2 of firewall up").press("Enter")
    expect(page.get_by_role("button", name="Move rule 1 of firewall down")).to_be_focused()
    expect(page.locator("#f-0-rules-0-port")).to_have_value("53")
    expect(page.locator("#f-0-rules-1-port")).to_have_value("22")
    yaml = page.locator("#nsd-yaml")
    expect(yaml).to_contain_text("- action: drop\n          protocol: udp\n          port: 53")
    page.get_by_role("button", name="Remove rule 2 of firewall").press("Enter")
    expect(page.locator("#f-0-rules-1-port")).to_have_count(0)
    expect(yaml).not_to_contain_text("port: 22")

    page.get_by_label("Function to add").select_option(label="Rate limiter")
    page.get_by_role("button", name="Add to the chain").press("Enter")
    rate = page.locator("#f-1-ingress_rate")
    rate.fill("ten megabits")
    validation = page.locator("#validation")
    expect(validation).to_have_text("1 problem to fix before publishing.")
    expect(page.locator("#problems")).to_contain_text("rate_limiter.properties.ingress_rate")
    rate.fill("10 Mbps")
    expect(validation).to_have_text("Valid: the catalog's loader finds no problem.")

    page.get_by_label("Function to add").select_option(value=f"package:browser-dns-{tag}")
    page.get_by_role("button", name="Add to the chain").press("Enter")
    expect(page.locator("#f-2-flavour")).to_have_value("default")
    expect(page.locator("#path-summary")).to_have_text(
        "Traffic path: LAN → firewall → rate_limiter → dns_forwarder → WAN"
    )
    expect(yaml).to_contain_text(f"descriptor_id: browser-dns-{tag}")
    expect(validation).to_have_text("Valid: the catalog's loader finds no problem.")
    page.get_by_role("button", name="Move dns_forwarder up").press("Enter")
    expect(page.locator("#path-summary")).to_have_text(
        "Traffic path: LAN → firewall → dns_forwarder → rate_limiter → WAN"
    )
    page.get_by_role("button", name="Remove rate_limiter").press("Enter")
    expect(page.get_by_label("Function to add")).to_be_focused()
    expect(page.locator("#path-summary")).to_have_text(
        "Traffic path: LAN → firewall → dns_forwarder → WAN"
    )
    page.get_by_label("WAN access point (after the last function)").uncheck()
    expect(page.locator("#path-summary")).to_have_text(
        "Traffic path: LAN → firewall → dns_forwarder"
    )
    expect(yaml).not_to_contain_text("wan:\n")
    expect(validation).to_have_text("Valid: the catalog's loader finds no problem.")
    shot(page, "designer-forms")
    assert refused == [], refused  # nothing the page's CSP refused, no request that failed
