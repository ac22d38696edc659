"""Self-service firewall rules (in-process): one change at a time, previewed with nothing
written, applied on confirm by the NS update the API runs; a bad value named as the API names
it; a stale preview refused; another tenant's NS not found."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import pytest

from tests.central.api.conftest import Caller, Central
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_nslcm import (
    OPS,
    add_sites,
    create_ns,
    instantiate_on,
    settle_all,
)
from tests.central.web.conftest import Portal
from tests.central.web.test_order import customer


@dataclass
class Running:
    """A customer's NS (firewall then NAT) on its site, and the customer signed in."""

    central: Central
    acme: Caller
    ns: str
    site: str
    csrf: str


def firewall_rules(run: Running) -> list[dict[str, Any]]:
    answer = run.central.client.get(f"/api/v1/sites/{run.site}/desired-state",
                                    headers=run.acme.headers).json()  # fmt: skip
    (entry,) = answer["document"]["services"]
    wall = next(v for v in entry["vnfs"] if v["function"] == "firewall")
    return list(wall["config"]["rules"])


@pytest.fixture
def run(portal: Portal) -> Running:
    central, acme, csrf = customer(portal, "acme")
    nsd = onboard_nsd(central, central.admin)
    (site,) = add_sites(central, acme, "home")
    ns = create_ns(central, acme, nsd)["id"]
    settle_all(central, acme, instantiate_on(central, acme, ns, site), site)
    return Running(central, acme, ns, site, csrf)


def preview(portal: Portal, ns: str, csrf: str, **fields: str) -> Any:
    return portal.client.post(f"/ui/ns/{ns}/firewall/preview", data={"csrf": csrf, **fields})


def apply(portal: Portal, ns: str, csrf: str, shown: str) -> Any:
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', shown)
    rules = re.search(r'name="rules" value="([^"]+)"', shown)
    assert fingerprint, shown
    assert rules, shown
    return portal.client.post(f"/ui/ns/{ns}/firewall/apply", data={
        "csrf": csrf, "fingerprint": fingerprint.group(1), "rules": html.unescape(rules.group(1))},
        follow_redirects=False)  # fmt: skip


def test_each_change_is_previewed_then_applied_by_an_ns_update(
    portal: Portal, run: Running
) -> None:
    ns, csrf, headers = run.ns, run.csrf, run.acme.headers
    before = firewall_rules(run)
    hub = portal.client.get("/ui/order")  # reachable from the navigation's "Order a service"
    assert f'<a href="/ui/ns/{ns}/firewall">Firewall rules of vcpe</a>' in hub.text
    assert f'<a href="/ui/sites/{run.site}/steering">Steering preferences at home</a>' in hub.text
    page = portal.client.get(f"/ui/ns/{ns}/firewall")
    assert page.status_code == 200, page.text
    assert len(re.findall(r'<th scope="row">\d+</th>', page.text)) == len(before)
    assert 'aria-label="Move up rule 2"' in page.text
    assert 'aria-label="Move up rule 1"' not in page.text  # the first cannot go up

    shown = preview(portal, ns, csrf, kind="add", index="1", action="drop", protocol="tcp",
                    port="8080", description="no web")  # fmt: skip
    assert shown.status_code == 200, shown.text
    assert "Adds rule 1: drop tcp port 8080 (outbound) — no web." in shown.text
    assert re.search(r'<ol id="rules-after"><li>drop tcp port 8080', shown.text)
    assert "+      &#34;port&#34;: 8080" in shown.text  # the desired config's diff
    assert firewall_rules(run) == before  # a preview writes nothing

    applied = apply(portal, ns, csrf, shown.text)
    assert applied.status_code == 303, applied.text
    assert applied.headers["location"].startswith(f"/ui/ns/{ns}/firewall/operations/")
    after = firewall_rules(run)
    assert after[0] == {"action": "drop", "protocol": "tcp", "port": 8080,
                        "direction": "outbound", "description": "no web"}  # fmt: skip
    assert after[1:] == before
    ops = portal.client.get(OPS, params={"nsInstanceId": ns}, headers=headers).json()
    update = next(op for op in ops if op["lcmOperationType"] == "UPDATE")
    assert update["operationParams"]["updateType"] == "MODIFY_VNF_INFORMATION"
    progress = portal.client.get(applied.headers["location"])
    assert update["id"] in progress.text
    assert 'role="status" aria-live="polite"' in progress.text


def test_move_edit_remove_and_what_is_refused(portal: Portal, run: Running) -> None:
    ns, csrf = run.ns, run.csrf
    before = firewall_rules(run)
    moved = preview(portal, ns, csrf, kind="down", index="1")
    assert "Moves rule 1" in moved.text
    assert "to position 2: it is matched later." in moved.text
    applied = apply(portal, ns, csrf, moved.text)
    op = applied.headers["location"].rsplit("/", 1)[1]
    settle_all(run.central, run.acme, f"{OPS}/{op}", run.site)  # the next update may start
    assert firewall_rules(run)[:2] == [before[1], before[0]]

    edit = portal.client.get(f"/ui/ns/{ns}/firewall?edit=2")
    assert "Edit rule 2" in edit.text
    wrong = preview(portal, ns, csrf, kind="edit", index="2", action="accept", protocol="tcp",
                    port="eighty")  # fmt: skip
    assert wrong.status_code == 422
    assert ("modifyVnfInfoData[0].vnfConfigurableProperties.rules[1].port: "
            "&#39;eighty&#39; is not a port number from 1 to 65535") in wrong.text  # fmt: skip
    assert (
        'id="r-port" name="port" type="text" maxlength="1024" value="eighty" '
        'aria-invalid="true" aria-describedby="err-port"'
    ) in wrong.text
    icmp = preview(portal, ns, csrf, kind="edit", index="2", protocol="icmp", port="22")
    assert "a port needs protocol tcp or udp" in icmp.text
    past = preview(portal, ns, csrf, kind="up", index="1")
    assert past.status_code == 422
    assert "rule 1 is already the first" in past.text

    removed = preview(portal, ns, csrf, kind="remove", index="1")
    assert "Removes rule 1" in removed.text
    stale = removed.text.replace('name="fingerprint" value="', 'name="fingerprint" value="x')
    refused = apply(portal, ns, csrf, stale)
    assert refused.status_code == 303
    assert refused.headers["location"] == f"/ui/ns/{ns}/firewall"
    assert "changed since your preview" in portal.client.get(refused.headers["location"]).text
    assert len(firewall_rules(run)) == len(before)


def test_another_tenant_s_ns_has_no_firewall_page(portal: Portal, run: Running) -> None:
    ns = run.ns
    portal.client.cookies.clear()
    other = run.central.tenant("other")
    portal.user("bob", "bob-password-12", tenant_id=other.tenant_id, role="tenant")
    csrf = portal.sign_in("bob@other", "bob-password-12")
    assert portal.client.get(f"/ui/ns/{ns}/firewall").status_code == 404
    assert preview(portal, ns, csrf, kind="remove", index="1").status_code == 404
