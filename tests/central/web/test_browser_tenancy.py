"""A customer in a real browser (Debian's Chromium) opens another tenant's site, alarm and
service pages by URL: each is "not found" (404), with nothing of the other tenant's on it;
its own alarm's page opens (so the 404s are about whose the objects are)."""

from __future__ import annotations

import secrets
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from edgewise.central.services.alarm_terms import Kind, ManagedObject, active_key, component
from edgewise.central.store.alarm_tables import AlarmRow
from tests.central.api.test_catalog import NSD_YAML, NSDS
from tests.central.web.conftest import Live, Shot, sign_in_browser


def raise_alarm(
    database: Path, tenant_id: str, site_id: str, kind: Kind = Kind.SITE_OFFLINE, root: str = ""
) -> str:
    """An alarm written to the live central's store as its alarm engine writes one (the
    engine raising one for real is test_journey_alarm's); correlated to `root` if given."""
    name = component(site_id, link="mpls") if kind is Kind.LINK_DOWN else component(site_id)
    terms = kind.terms
    engine = create_engine(f"sqlite:///{database}", connect_args={"timeout": 15})
    try:
        with Session(engine) as session, session.begin():
            row = AlarmRow(
                kind=kind.value, component=name, active_key=active_key(kind, name),
                tenant_id=tenant_id, site_id=site_id, managed_object_type=ManagedObject.SITE.value,
                managed_object_id=site_id, severity=terms.severity.value,
                event_type=terms.event_type.value, probable_cause=terms.probable_cause,
                fault_type=terms.fault_type, is_root_cause=not root, root_alarm_id=root or None,
            )  # fmt: skip
            session.add(row)
            session.flush()
            return row.id
    finally:
        engine.dispose()


def test_a_customer_cannot_open_another_tenants_pages_by_url(
    live: Live, page: Page, shot: Shot
) -> None:
    api, suffix = live.api, secrets.token_hex(3)
    acme = live.central.tenant_id
    secret_site = f"acme-hidden-{suffix}"
    site = api.post("api/v1/sites", json={"name": secret_site, "kind": "on-premise",
                                          "tenantId": acme}).json()["id"]  # fmt: skip
    alarm = raise_alarm(live.process.database, acme, site)
    nsd = api.post(NSDS.lstrip("/"), json={}).json()["id"]
    uploaded = api.put(
        f"{NSDS.lstrip('/')}/{nsd}/nsd_content", content=NSD_YAML,
        headers={"Content-Type": "text/plain"},
    )  # fmt: skip
    assert uploaded.status_code == 204, uploaded.text
    ns = api.post(
        "nslcm/v1/ns_instances",
        json={"nsdId": nsd, "nsName": f"acme-ns-{suffix}", "tenantId": acme},
    )
    assert ns.status_code == 201, ns.text
    ns_id = ns.json()["id"]
    globex = api.post("api/v1/tenants", json={"name": f"globex-{suffix}"}).json()["id"]
    own_site = api.post("api/v1/sites", json={"name": f"plant-{suffix}", "kind": "on-premise",
                                              "tenantId": globex}).json()["id"]  # fmt: skip
    own_alarm = raise_alarm(live.process.database, globex, own_site)
    explained = raise_alarm(live.process.database, globex, own_site, Kind.LINK_DOWN, own_alarm)
    user = api.post(
        "api/v1/users", json={"name": "gus", "role": "tenant", "tenantId": globex}
    ).json()["id"]
    assert api.put(f"api/v1/users/{user}/password", json={"password": "gus-password-123"}
                   ).status_code == 204  # fmt: skip

    sign_in_browser(page, live.url, f"gus@globex-{suffix}", "gus-password-123")
    page.goto(f"{live.url}/ui/alarms/{own_alarm}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("SITE_OFFLINE")
    expect(page.get_by_role("main")).to_contain_text(f"plant-{suffix}")
    shot(page, "own-alarm")
    for what, url in (
        ("alarm", f"/ui/alarms/{alarm}"),
        ("site", f"/ui/sites/{site}"),
        ("service", f"/ui/ns/{ns_id}"),
        ("users", f"/ui/tenants/{acme}"),
    ):
        answer = page.goto(f"{live.url}{url}")
        assert answer is not None
        assert answer.status == 404, (what, answer.status)
        expect(page.get_by_role("heading", level=1)).to_have_text("Error 404")
        expect(page.get_by_role("alert")).to_be_visible()
        main = page.get_by_role("main").inner_text()
        assert secret_site not in main
        assert "SITE_OFFLINE" not in main
        shot(page, f"{what}-not-found")
    page.goto(f"{live.url}/ui/alarms")
    page.wait_for_selector("html[data-ready]")
    expect(page.locator(f'tr[data-alarm="{own_alarm}"]')).to_be_visible()
    expect(page.locator(f'tr[data-alarm="{alarm}"]')).to_have_count(0)
    assert secret_site not in page.content()
    disclosure = page.locator(f'details[data-root="{own_alarm}"]')
    disclosure.locator("summary").focus()
    page.keyboard.press("Enter")  # opened with the keyboard
    expect(page.locator(f'details[data-root="{own_alarm}"] a[href="/ui/alarms/{explained}"]')
           ).to_be_visible()  # fmt: skip
    page.evaluate(
        """() => new Promise((done) => document.getElementById("alarm-table")
             .addEventListener("ew:refreshed", done, { once: true }))"""
    )  # the table refreshed itself (every 3 s) ...
    expect(page.locator(f'details[data-root="{own_alarm}"]')).to_have_attribute("open", "")
    assert page.evaluate("document.activeElement.id") == f"explains-{own_alarm}"  # ... kept
    shot(page, "own-alarms-only")
