"""The customer's journey in a real browser, with real traffic: a customer (name@tenant) signs
in, orders the firewall + NAT service onto its own site — a real site controller on the linux
driver (root: namespaces prefixed `cj…`, removed even on failure) — and sees its progress; a LAN
host reaches a WAN host on TCP 443; the customer adds a rule rejecting TCP 443, previews it,
applies it, sees that operation's progress, and the LAN host no longer gets through."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from edgewise.site.drivers.linux.layout import pick_slot
from tests.central.api.test_catalog import NSD_YAML
from tests.central.web.conftest import Live, Shot, sign_in_browser
from tests.integration.harness import edgewise, stop, wait_for
from tests.integration.test_mixed_chain import lan_host
from tests.integration.test_software_vnf import onboard
from tests.site.drivers.netlab import INTERNET_HOST, Lab, can_build_namespaces

pytestmark = pytest.mark.slow
PORT = 443  # the vCPE NSD's firewall accepts TCP 443 from the LAN
PASSWORD = "customer-password-7"
SETTLE_S = 60  # an operation on a real site completes well within this


@pytest.fixture
def lab() -> Iterator[Lab]:
    why = can_build_namespaces()
    if why:
        pytest.skip(why)
    made = Lab(prefix="cj" + secrets.token_hex(2))
    try:
        made.start()
        yield made
    finally:
        made.close()


def start_site(
    live: Live, lab: Lab, tenant_id: str, data_dir: Path
) -> tuple[str, subprocess.Popen[bytes]]:
    """The tenant's site, enrolled with the real CLI, its controller on the lab's namespaces."""
    made = live.api.post("api/v1/sites", json={
        "name": f"home-{lab.prefix}", "kind": "on-premise", "tenantId": tenant_id})  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    done = edgewise("site-controller", "enroll", "--central", live.central.southbound, "--token",
                    body["enrollmentToken"]["token"], "--data-dir", str(data_dir),
                    "--ca-file", str(live.central.ca_file))  # fmt: skip
    assert done.returncode == 0, done.stderr
    with (data_dir / "controller.log").open("ab") as log:
        controller = subprocess.Popen(
            [sys.executable, "-m", "edgewise", "site-controller", "run", "--data-dir",
             str(data_dir), "--driver", "linux", "--site-prefix", lab.prefix, "--lan-netns",
             lab.lan, "--wan-netns", lab.wan, "--reconcile-interval", "0.5",
             "--first-poll-max-delay", "0.2"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return str(body["id"]), controller


def customer(live: Live, tenant: str) -> str:
    """A tenant and its customer with a portal password; the tenant's id."""
    made = live.api.post("api/v1/tenants", json={"name": tenant})
    assert made.status_code == 201, made.text
    tenant_id: str = made.json()["id"]
    user = live.api.post("api/v1/users", json={"name": "carol", "role": "tenant",
                                               "tenantId": tenant_id})  # fmt: skip
    assert user.status_code == 201, user.text
    answer = live.api.put(f"api/v1/users/{user.json()['id']}/password",
                          json={"password": PASSWORD})  # fmt: skip
    assert answer.status_code == 204, answer.text
    return tenant_id


def completes(page: Page, shot: Shot, name: str) -> None:
    """The operation's page updates itself until the operation is COMPLETED."""
    expect(page.locator("#op-state")).to_have_text("COMPLETED", timeout=SETTLE_S * 1000)
    shot(page, name)


def test_a_customer_orders_a_firewall_and_traffic_obeys_its_rule_change(
    live: Live, page: Page, shot: Shot, lab: Lab, tmp_path: Path
) -> None:
    tenant = f"shop{lab.prefix}"
    tenant_id = customer(live, tenant)
    unique = NSD_YAML.replace(b"edgewise0001", lab.prefix.encode()[:12].ljust(12, b"0"))
    nsd = onboard(live.central, "nsd/v1/ns_descriptors", "nsd_content", unique, "text/plain")
    site_id, controller = start_site(live, lab, tenant_id, tmp_path / "site")
    try:
        journey(live, page, shot, lab, nsd, site_id)
    finally:
        stop(controller)
    log = (tmp_path / "site" / "controller.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


def journey(live: Live, page: Page, shot: Shot, lab: Lab, nsd: str, site_id: str) -> None:
    sign_in_browser(page, live.url, f"carol@shop{lab.prefix}", PASSWORD)
    page.get_by_role("link", name="Order a service").click()
    shot(page, "order-list")
    page.locator(f'a[href="/ui/order/{nsd}"]').click()
    page.wait_for_url(f"**/ui/order/{nsd}")
    page.wait_for_selector("form[data-live]")
    site = page.get_by_label("Site")
    site.select_option(site_id)
    name = page.get_by_label("Name of the service")
    expect(name).to_have_attribute("aria-invalid", "true")  # the check, as the user types
    expect(page.locator("#err-nsName")).to_have_text("nsName: missing: a name for the new NS "
                                                     "instance")  # fmt: skip
    shot(page, "order-form-checked")
    name.fill("home firewall")
    expect(name).not_to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Order and instantiate").click()
    expect(page.get_by_role("status").first).to_contain_text("Ordered home firewall")
    completes(page, shot, "order-progress")

    (ns,) = [n for n in live.api.get("nslcm/v1/ns_instances").json() if n["nsdInfoId"] == nsd]
    held = live.api.get(f"api/v1/sites/{site_id}/desired-state").json()
    (service,) = held["document"]["services"]
    slot = pick_slot(service["id"], set(), lab.site.slots)
    host = f"{lab.prefix}-h1"
    lan_host(lab, slot)
    lab.serve(lab.internet, PORT)
    wait_for(
        lambda: not lab.connect(host, INTERNET_HOST, PORT).startswith("failed"),
        20,
        "the LAN host to reach the WAN host on TCP 443 through the firewall and NAT",
    )

    page.goto(f"{live.url}/ui/ns/{ns['id']}/firewall")
    shot(page, "firewall-rules")
    page.get_by_label("Position").fill("1")
    page.get_by_label("Action").select_option("reject")
    page.get_by_label("Protocol").select_option("tcp")
    page.locator("#r-port").fill(str(PORT))  # (the "Port range" label holds "Port" too)
    page.get_by_label("Description").fill("no HTTPS out")
    page.get_by_role("button", name="Preview the change").click()
    expect(page.locator("#change-sentence")).to_contain_text(
        "Adds rule 1: reject tcp port 443 (outbound) — no HTTPS out."
    )
    expect(page.locator("#rules-after li").first).to_have_text(
        "reject tcp port 443 (outbound) — no HTTPS out"
    )
    expect(page.locator("#config-diff")).to_contain_text('"action": "reject"')
    shot(page, "firewall-preview")
    assert not lab.connect(host, INTERNET_HOST, PORT).startswith("failed")  # nothing applied yet
    page.get_by_role("button", name="Apply the change").click()
    completes(page, shot, "firewall-progress")
    answer = lab.connect(host, INTERNET_HOST, PORT)
    assert answer.startswith("failed"), answer  # the site applied the new rule: refused now
    page.goto(f"{live.url}/ui/ns/{ns['id']}/firewall")
    expect(page.locator("#rules tbody tr").first).to_contain_text("reject tcp port 443")
    shot(page, "firewall-rules-after")
