"""The operator's alarm journey in a real browser (Debian's Chromium) over real processes: a
central with short holds (a site offline 1 x 2 s + 5 s after its last "heard from" mark) and a
real site controller (sim driver) that is then stopped. The operator watches the alarms page
until SITE_OFFLINE appears on it (the table refreshes itself), opens it, acknowledges it and
sees it acknowledged — in the page and in the fault API."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.central.web.conftest import Shot, sign_in_browser
from tests.integration.harness import CentralProcess, enroll, start_controller, stop, wait_for

HOLDS = {"EDGEWISE_POLL_HOLD": "1,2", "EDGEWISE_ALARM_OFFLINE_HOLDS": "1"}
RAISED_WITHIN_S = 40.0  # marks every 5 s, offline 7 s after one, a sweep every 2 s, + slack
PASSWORD = "journey-password-1"


def test_an_operator_sees_a_stopped_site_raise_an_alarm_and_acknowledges_it(
    tmp_path: Path, page: Page, shot: Shot
) -> None:
    process = CentralProcess(tmp_path / "central", env=HOLDS)
    (tmp_path / "central").mkdir()
    with process.running() as central:
        api = central.api
        me = api.get("api/v1/whoami").json()
        assert api.put(f"api/v1/users/{me['userId']}/password",
                       json={"password": PASSWORD}).status_code == 204  # fmt: skip
        site_dir = tmp_path / "site"
        site_id = enroll(central, "journey-site", site_dir)
        controller = start_controller(site_dir)
        try:
            wait_for(lambda: central.status(site_id)["presence"] == "online", 30, "the site online")
        finally:
            stop(controller)
        stopped = time.monotonic()
        base = process.url.rstrip("/")
        sign_in_browser(page, base, me["userName"], PASSWORD)
        page.get_by_role("link", name="Alarms", exact=True).click()
        page.get_by_label("Kind").select_option("SITE_OFFLINE")
        page.get_by_label("State").select_option("active")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_selector("html[data-ready]")
        expect(page.get_by_role("table")).to_contain_text("No alarm matches")
        shot(page, "alarms-before")
        row = page.locator("tr[data-alarm]")  # the table refreshes itself every 3 s
        expect(row).to_have_count(1, timeout=RAISED_WITHIN_S * 1000)
        raised_after = time.monotonic() - stopped
        expect(row).to_contain_text("journey-site")
        expect(row).to_contain_text("CRITICAL")
        expect(row).to_contain_text("not acknowledged")
        expect(page.locator("#alarm-news")).to_have_text("1 alarm on this page, root causes first")
        shot(page, "alarm-appeared")
        row.get_by_role("link", name="SITE_OFFLINE").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("SITE_OFFLINE")
        alarm_id = page.url.rsplit("/", 1)[-1]
        shot(page, "alarm")
        page.get_by_role("button", name="Acknowledge").click()
        expect(page.get_by_role("status")).to_contain_text("acknowledged")
        expect(page.get_by_role("main")).to_contain_text("acknowledged")
        expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
        shot(page, "alarm-acknowledged")
        document = api.get(f"nsfm/v1/alarms/{alarm_id}").json()
        assert (document["kind"], document["siteId"]) == ("SITE_OFFLINE", site_id)
        assert document["ackState"] == "ACKNOWLEDGED"
        page.goto(f"{base}/ui/alarms?ack=yes")
        expect(page.locator(f'tr[data-alarm="{alarm_id}"]')).to_be_visible()
        shot(page, "acknowledged-list")
        print(f"SITE_OFFLINE on the page {raised_after:.1f} s after the controller stopped")
