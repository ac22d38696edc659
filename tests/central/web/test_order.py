"""Ordering a service (in-process): the form generated from the NSD's third-party VNF inputs,
the check the page's script calls naming each problem as the API names it, the order that
creates and instantiates the NS on the customer's own site, its progress, and another tenant's
site refused."""

from __future__ import annotations

import re
import time

import pytest

from tests.central.api.conftest import Caller, Central
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_nslcm import NS, add_sites, desired, report
from tests.central.api.test_software_vnfs import nsd_text, onboard_package
from tests.central.web.conftest import Portal
from tests.tosca.softpkg import package

PASSWORD = "customer-password-1"


def customer(portal: Portal, tenant: str) -> tuple[Central, Caller, str]:
    """The API's test central over the portal's app, a tenant with a token, and that tenant's
    customer signed in to the portal (its CSRF token)."""
    central = Central(portal.client, portal.admin)
    caller = central.tenant(tenant)
    portal.user("ann", PASSWORD, tenant_id=caller.tenant_id, role="tenant")
    return central, caller, portal.sign_in(f"ann@{tenant}", PASSWORD)


@pytest.fixture
def dns_nsd(portal: Portal) -> str:
    central = Central(portal.client, portal.admin)
    onboard_package(central, package())
    return onboard_nsd(central, central.admin, nsd_text())


def test_the_form_is_generated_from_the_nsd_and_checked_as_the_api_checks(
    portal: Portal, dns_nsd: str
) -> None:
    central, acme, csrf = customer(portal, "acme")
    (site,) = add_sites(central, acme, "home")
    listed = portal.client.get("/ui/order")
    assert listed.status_code == 200
    assert f'href="/ui/order/{dns_nsd}"' in listed.text
    page = portal.client.get(f"/ui/order/{dns_nsd}")
    assert page.status_code == 200, page.text
    html = page.text
    assert re.search(r'name="p\.dns\.port" type="number" min="1" max="65535"', html), html
    assert re.search(r'name="p\.dns\.domain" maxlength="4096" required', html)
    assert "(string, required)" in html
    assert "dns → firewall (LAN to WAN)" in html  # the NSD's forwarding path
    assert f'<option value="{site}">home</option>' in html

    def check(**fields: str) -> dict[str, str]:
        answer = portal.client.post(f"/ui/order/{dns_nsd}/check", data=fields,
                                    headers={"X-CSRF-Token": csrf})  # fmt: skip
        assert answer.status_code == 200, answer.text
        return {p["where"]: p["message"] for p in answer.json()["problems"]}

    problems = check(**{"p.dns.port": "70000"})
    assert problems["nsName"].startswith("missing")
    assert problems["additionalParamsForNs.sites"].startswith("missing")
    assert problems["additionalParamsForVnf[0].additionalParams.port"] == (
        "70000 does not satisfy in_range [1, 65535]")  # fmt: skip
    assert problems["additionalParamsForVnf[0].additionalParams.domain"].startswith(
        "missing: the VNFD requires it")  # fmt: skip
    # the API's own answer to the same values names the same fields with the same words
    made = portal.client.post(NS, json={"nsdId": dns_nsd, "nsName": "x"}, headers=acme.headers)
    api = portal.client.post(f"{NS}/{made.json()['id']}/instantiate", json={
        "nsFlavourId": "default", "additionalParamsForNs": {"sites": [site]},
        "additionalParamsForVnf": [{"vnfProfileId": "dns", "additionalParams": {"port": 70000}}],
    }, headers=acme.headers)  # fmt: skip
    assert api.status_code == 422, api.text
    said = {p["where"]: p["message"] for p in api.json()["problems"]}
    for where in ("additionalParamsForVnf[0].additionalParams.port",
                  "additionalParamsForVnf[0].additionalParams.domain"):  # fmt: skip
        assert said[where] == problems[where]
    good = {"nsName": "dns", "additionalParamsForNs.sites": site, "p.dns.domain": "lan.example",
            "p.dns.port": "5300"}  # fmt: skip
    assert check(**good) == {}
    refused = portal.client.post(f"/ui/order/{dns_nsd}/check", data=good)
    assert refused.status_code == 403  # no CSRF token, no answer


def test_an_order_instantiates_on_the_own_site_and_shows_progress(
    portal: Portal, dns_nsd: str
) -> None:
    central, acme, csrf = customer(portal, "acme")
    (site,) = add_sites(central, acme, "home")
    bad = portal.client.post(
        f"/ui/order/{dns_nsd}",
        data={
            "csrf": csrf,
            "nsName": "dns",
            "additionalParamsForNs.sites": site,
            "p.dns.port": "0",
        },
    )
    assert bad.status_code == 422
    assert 'aria-invalid="true" aria-describedby="err-p.dns.port"' in bad.text
    assert "additionalParamsForVnf[0].additionalParams.port: 0 does not satisfy" in bad.text
    assert portal.client.get(NS, headers=acme.headers).json() == []  # nothing was created

    ordered = portal.client.post(f"/ui/order/{dns_nsd}", data={
        "csrf": csrf, "nsName": "dns", "additionalParamsForNs.sites": site,
        "p.dns.domain": "lan.example"}, follow_redirects=False)  # fmt: skip
    assert ordered.status_code == 303, ordered.text
    progress = ordered.headers["location"]
    assert progress.startswith("/ui/order/operations/")
    (ns,) = portal.client.get(NS, headers=acme.headers).json()
    assert ns["nsInstanceName"] == "dns"
    held = desired(central, acme, site)
    (entry,) = held["document"]["services"]
    dns = next(v for v in entry["vnfs"] if v["name"] == "dns")
    assert dns["config"]["params"] == {"domain": "lan.example", "port": "53"}
    page = portal.client.get(progress)
    assert "PROCESSING" in page.text
    assert f'data-refresh="{progress}"' in page.text
    report(central, site, held["revision"], [{"id": entry["id"], "state": "ready", "vnfs": []}])
    for _ in range(50):  # the tracker completes the operation from the report
        fragment = portal.client.get(progress, headers={"X-Requested-With": "edgewise"})
        if "COMPLETED" in fragment.text:
            break
        time.sleep(0.1)
    assert "COMPLETED" in fragment.text
    assert "<html" not in fragment.text  # a fragment, not a page
    shown = portal.client.get(f"{NS}/{ns['id']}", headers=acme.headers).json()
    assert shown["nsState"] == "INSTANTIATED"


def test_another_tenant_s_site_and_nsd_do_not_exist_for_the_customer(
    portal: Portal, dns_nsd: str
) -> None:
    central, _acme, csrf = customer(portal, "acme")
    other = central.tenant("other")
    (theirs,) = add_sites(central, other, "theirs")
    private = onboard_nsd(central, other, nsd_text(nsd_id="private-nsd"))
    assert portal.client.get(f"/ui/order/{private}").status_code == 404
    assert f"/ui/order/{private}" not in portal.client.get("/ui/order").text
    page = portal.client.get(f"/ui/order/{dns_nsd}")
    assert theirs not in page.text
    answer = portal.client.post(f"/ui/order/{dns_nsd}", data={
        "csrf": csrf, "nsName": "dns", "additionalParamsForNs.sites": theirs,
        "p.dns.domain": "lan.example"})  # fmt: skip
    assert answer.status_code == 422
    said = f"additionalParamsForNs.sites: &#39;{theirs}&#39; is not one of your sites"
    assert said in answer.text
