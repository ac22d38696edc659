"""The console in a real browser (Debian's Chromium through Playwright, against a real central
process): dashboard → a figure's link → the filtered sites list → the name filter → a site's
page with its link charts → another range. Screenshots of each page in test-output/web/."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests.central.api.sdwan import MPLS
from tests.central.web import sites_seed as seed
from tests.central.web.conftest import Live, Shot, sign_in_browser


def test_dashboard_to_a_sites_chart(live: Live, page: Page, shot: Shot) -> None:
    tag = f"cw{uuid.uuid4().hex[:6]}"
    tenant = live.api.post("api/v1/tenants", json={"name": tag})
    assert tenant.status_code == 201, tenant.text
    body = {"sites": [{"name": f"{tag}-{n}", "kind": "on-premise", "tenantId": tenant.json()["id"],
                       "labels": {"region": "eu"}} for n in ("lyon", "nice", "pau")]}  # fmt: skip
    made = live.api.post("api/v1/sites/batch", json=body)
    assert made.status_code == 201, made.text
    ids = [s["site"]["id"] if "site" in s else s["id"] for s in made.json()]
    lyon = ids[0]
    assert live.api.post(f"api/v1/sites/{lyon}/links", json=MPLS).status_code == 201
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    samples = [(now - timedelta(minutes=m), 30 + (m % 7) * 4.0) for m in range(1, 55)]
    with seed.store(live.process.data_dir) as session:
        seed.set_state(session, lyon, seen_ago=timedelta(seconds=1))
        seed.history(session, lyon, "mpls", samples)
        seed.event(session, lyon, "link-state", link="mpls", state="up")
        rollout = seed.rollout(
            session, tenant.json()["id"], f"{tag}-roll", dict.fromkeys(ids, "PENDING")
        )

    sign_in_browser(page, live.url, live.admin_login, live.admin_password)
    page.wait_for_url(f"{live.url}/ui/")  # the login page was ready too: the sign-in landed
    page.goto(f"{live.url}/ui/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    progress = page.get_by_role("row", name=f"{tag}-roll")
    expect(progress).to_contain_text("0 / 3 (0%)")
    shot(page, "dashboard")
    with seed.store(live.process.data_dir) as session:  # the rollout moves on: live, no reload
        seed.rollout_site(session, rollout, ids[0], "DONE")
        seed.rollout_site(session, rollout, ids[1], "DONE")
    expect(progress).to_contain_text("2 / 3 (67%)", timeout=8_000)
    shot(page, "dashboard-rollout-moved")

    page.locator('a[href="/ui/sites?presence=online"]').click()
    page.wait_for_selector("html[data-ready]")
    expect(page).to_have_url(f"{live.url}/ui/sites?presence=online")
    expect(page.get_by_label("Presence")).to_have_value("online")
    expect(page.get_by_role("link", name=f"{tag}-lyon")).to_be_visible()
    shot(page, "sites-online")

    page.get_by_label("Name starts with").fill(tag)
    page.get_by_label("Presence").select_option("")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_selector("html[data-ready]")
    rows = page.get_by_role("table").locator("tbody th[scope=row]")
    expect(rows).to_have_text([f"{tag}-lyon", f"{tag}-nice", f"{tag}-pau"])
    shot(page, "sites-by-name")

    page.goto(f"{live.url}/ui/sites?presence=lost")
    expect(page.get_by_role("alert")).to_contain_text("Filter presence: 'lost' is not one of")
    expect(page.get_by_label("Presence")).to_have_attribute("aria-invalid", "true")
    shot(page, "sites-bad-filter")

    page.go_back()
    page.get_by_role("link", name=f"{tag}-lyon").click()
    page.wait_for_selector("html[data-ready]")
    expect(page.get_by_role("heading", name=f"Site {tag}-lyon")).to_be_visible()
    latency = page.get_by_role("img", name="Latency of mpls (ms)")
    expect(latency).to_be_visible()
    assert page.locator("svg.chart path.line").count() == 3
    shot(page, "site-24h")

    page.get_by_role("link", name="1h", exact=True).click()
    page.wait_for_selector("html[data-ready]")
    expect(page.get_by_role("link", name="1h", exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    page.get_by_text("Latency of mpls as a table").click()
    expect(page.get_by_role("table", name="Latency of mpls (ms)")).to_be_visible()
    shot(page, "site-1h-table")
