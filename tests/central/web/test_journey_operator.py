"""The operator's journey, first half, in a real browser over a real central and real site
controllers (sim driver): sign in, onboard a VNF package (file input) and an NSD (dropped),
see a broken package's problems by file, line and column, instantiate the NSD on a label
selector after a dry run of the placement, and watch the operation reach COMPLETED live."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import uuid
import zipfile
from pathlib import Path

from playwright.sync_api import Dialog, FilePayload, Page, expect

from edgewise.lab import samples
from tests.central.web.conftest import Live, Shot, sign_in_browser
from tests.integration.harness import enroll, start_controller, stop

DROP = """([selector, name, b64, type]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const zone = document.querySelector(selector);
  zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true }));
  zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
}"""


def zipped(folder: Path, replace: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = file.relative_to(folder).as_posix()
            archive.writestr(name, (replace or {}).get(name, file.read_bytes()))
    return buffer.getvalue()


def drop(page: Page, kind: str, name: str, data: bytes, media: str) -> None:
    """Drops a file on the catalog's drop zone for `kind`, as a user dragging it would."""
    page.evaluate(
        DROP, [f".dropzone[data-kind={kind}]", name, base64.b64encode(data).decode(), media]
    )


def test_the_operator_onboards_instantiates_and_acknowledges_a_stopped_sites_alarm(
    live: Live, page: Page, shot: Shot, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    sites = {f"journey-{tag}-{n}": tmp_path / f"site-{n}" for n in range(2)}
    controllers: list[subprocess.Popen[bytes]] = []
    site_ids: list[str] = []
    try:
        for name, folder in sites.items():
            folder.mkdir()
            site_id = enroll(live.central, name, folder)
            site_ids.append(site_id)
            labelled = live.api.patch(f"api/v1/sites/{site_id}", json={"labels": {"journey": tag}})
            assert labelled.status_code == 200, labelled.text
            controllers.append(start_controller(folder))
        other = live.api.post(
            "api/v1/sites",
            json={"name": f"journey-{tag}-elsewhere", "kind": "on-premise",
                  "tenantId": live.central.tenant_id, "labels": {"journey": "other"}},
        )  # fmt: skip
        assert other.status_code == 201, other.text
        nsd_id = journey(live, page, shot, tag)
        confirm_after_refresh(live, page, shot, tag, nsd_id)
        stop(controllers[0])  # the journey's end: a site controller stops, an alarm is raised
        acknowledge_the_stopped_sites_alarm(live, page, shot, site_ids[0])
    finally:
        for process in controllers:
            stop(process)


def journey(live: Live, page: Page, shot: Shot, tag: str) -> str:
    base = live.url
    sign_in_browser(page, base, live.admin_login, live.admin_password)
    page.get_by_role("navigation").get_by_role("link", name="Catalog").click()
    page.wait_for_selector("html[data-ready]")
    expect(page.get_by_role("heading", name="Catalog", exact=True)).to_be_visible()
    shot(page, "catalog-empty")

    router = samples.path(samples.ROUTER_VNF)
    vnfd = "Definitions/router-vnfd.yaml"
    broken = (router / vnfd).read_bytes() + b"\n  broken: [1, 2\n"
    drop(page, "vnfpkg", "broken-router.zip", zipped(router, {vnfd: broken}), "application/zip")
    problems = page.locator("#onboard-problems")
    expect(problems).to_be_visible()
    expect(problems).to_have_attribute("role", "alert")
    expect(page.locator("#onboard-detail")).to_contain_text("broken-router.zip was refused (400)")
    first = problems.locator("tbody tr").first
    expect(first.locator("th")).to_have_text(re.compile(r"router-vnfd\.yaml$"))
    expect(first.locator("td").nth(0)).to_have_text(re.compile(r"^\d+$"))  # line
    expect(first.locator("td").nth(1)).to_have_text(re.compile(r"^\d+$"))  # column
    shot(page, "catalog-broken-package")

    package: FilePayload = {
        "name": "router.zip", "mimeType": "application/zip", "buffer": zipped(router),
    }  # fmt: skip
    page.get_by_label("VNF package (a CSAR .zip)").set_input_files(files=package)
    page.wait_for_url(re.compile(r"/ui/catalog#vnfpkg-"))
    page.wait_for_selector("html[data-ready]")
    package_id = page.url.rsplit("#vnfpkg-", 1)[1]
    expect(page.locator(f"#vnfpkg-{package_id}")).to_contain_text("ONBOARDED")

    nsd_yaml = samples.path(samples.VCPE_NSD).read_bytes()  # its own descriptor id: the live
    # central is shared by the session's browser tests, and one may have onboarded the sample
    nsd_yaml = nsd_yaml.replace(b"5b2d6f3e-7c8a-4d1e-9f00-edgewise0001", f"vcpe-{tag}".encode())
    drop(page, "nsd", "vcpe-nsd.yaml", nsd_yaml, "text/plain")
    page.wait_for_url(re.compile(r"/ui/catalog#nsd-"))
    page.wait_for_selector("html[data-ready]")
    nsd_id = page.url.rsplit("#nsd-", 1)[1]
    expect(page.locator(f"#nsd-{nsd_id}")).to_contain_text("ONBOARDED")
    shot(page, "catalog-onboarded")

    page.get_by_role("navigation").get_by_role("link", name="Services").click()
    page.get_by_role("link", name="New NS instance").click()
    page.get_by_label("NSD").select_option(nsd_id)
    page.get_by_label("Name").fill(f"vcpe-{tag}")
    shot(page, "ns-new")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=f"NS instance vcpe-{tag}")).to_be_visible()
    page.get_by_label("Sites: label selector").fill(f"journey={tag}")
    page.get_by_role("button", name="Show matching sites").click()
    matched = page.get_by_role("table", name="Sites the selector matches")
    expect(page.get_by_role("heading", name="Dry run: 2 site(s) would be chosen")).to_be_visible()
    expect(matched).to_contain_text(f"journey-{tag}-0")
    expect(matched).to_contain_text(f"journey-{tag}-1")
    expect(matched.locator("tr", has_text=f"journey-{tag}-elsewhere")).to_contain_text(
        "never enrolled"
    )
    shot(page, "ns-dry-run")

    page.get_by_role("button", name="Instantiate").click()
    expect(page.get_by_role("heading", name=re.compile(r"^INSTANTIATE "))).to_be_visible()
    page.wait_for_selector("html[data-ready]")
    shot(page, "operation-processing")
    url = page.url
    expect(page.locator("#op-state")).to_have_text("COMPLETED", timeout=60_000)  # live
    assert page.url == url  # no reload: the progress section refreshed itself
    expect(page.locator("#progress")).to_contain_text("2 / 2")
    expect(page.get_by_role("button", name="Retry")).to_be_disabled()
    shot(page, "operation-completed")

    page.get_by_role("link", name=re.compile(r"^[0-9a-f-]{36}$")).first.click()
    expect(page.get_by_role("heading", name=f"NS instance vcpe-{tag}")).to_be_visible()
    expect(page.get_by_text("INSTANTIATED", exact=True)).to_be_visible()
    shot(page, "ns-instantiated")
    ns_url = page.url
    page.get_by_role("navigation").get_by_role("link", name="Operations").click()
    page.get_by_label("State").select_option("COMPLETED")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("table", name="Operations")).to_contain_text("INSTANTIATE")
    shot(page, "operations")
    terminate_and_roll_out(page, shot, tag, nsd_id, ns_url)
    return nsd_id


def terminate_and_roll_out(page: Page, shot: Shot, tag: str, nsd_id: str, ns_url: str) -> None:
    """The NS terminated (after the confirmation), followed live; then a rollout. (The live
    central is shared: the journey goes back to its own NS by its page, never by "the first
    INSTANTIATE" of a list other tests write to too.)"""
    page.goto(ns_url)
    expect(page.get_by_role("heading", name=f"NS instance vcpe-{tag}")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())  # form[data-confirm]
    page.get_by_role("button", name="Terminate").click()
    expect(page.get_by_role("heading", name=re.compile(r"^TERMINATE "))).to_be_visible()
    expect(page.locator("#op-state")).to_have_text("COMPLETED", timeout=60_000)
    shot(page, "terminated")
    rollout(page, shot, tag, nsd_id)


def rollout(page: Page, shot: Shot, tag: str, nsd_id: str) -> None:
    """The same NSD rolled out to the labelled sites one wave per site, after a dry run."""
    page.get_by_role("navigation").get_by_role("link", name="Rollouts").click()
    page.get_by_role("link", name="New rollout").click()
    page.get_by_label("Name").fill(f"roll-{tag}")
    page.get_by_label("NSD").select_option(nsd_id)
    page.get_by_label("Sites: label selector").fill(f"journey={tag}")
    page.get_by_label("Sites per wave").fill("1")
    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_role("heading", name="Dry run: 2 site(s) in 2 wave(s)")).to_be_visible()
    expect(page.get_by_role("table", name="Sites left out")).to_contain_text("never enrolled")
    shot(page, "rollout-dry-run")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Start the rollout").click()
    expect(page.get_by_role("heading", name=f"Rollout roll-{tag}")).to_be_visible()
    page.wait_for_selector("html[data-ready]")
    shot(page, "rollout-running")
    expect(page.locator("#rollout-state")).to_have_text("COMPLETED", timeout=90_000)
    expect(page.get_by_role("table", name="Sites by wave")).not_to_contain_text("PENDING")
    shot(page, "rollout-completed")


def confirm_after_refresh(live: Live, page: Page, shot: Shot, tag: str, nsd_id: str) -> None:
    """A PAUSED rollout's page keeps refreshing its live part; the Abort it brings still asks
    for a confirmation (app.js asks for every form, those a refresh brings included)."""
    made = live.api.post(
        "api/v1/rollouts",
        json={"name": f"again-{tag}", "nsdId": nsd_id, "labels": f"journey={tag}",
              "batchSize": 1},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    rollout_id = made.json()["id"]
    paused = live.api.post(f"api/v1/rollouts/{rollout_id}/pause")
    assert paused.status_code == 200, paused.text
    page.goto(f"{live.url}/ui/rollouts/{rollout_id}")
    page.wait_for_selector("html[data-ready]")
    page.evaluate("document.addEventListener('ew:refreshed', () => { window.ewRefreshed = true; })")
    page.wait_for_function("() => window.ewRefreshed === true", timeout=10_000)
    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Abort", exact=True).click()
    expect(page.locator("#rollout-state")).to_have_text("PAUSED")
    assert asked == ["Abort this rollout for good?"]
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Abort", exact=True).click()
    expect(page.locator("#rollout-state")).to_have_text("ABORTED")
    shot(page, "rollout-aborted")


def acknowledge_the_stopped_sites_alarm(live: Live, page: Page, shot: Shot, site_id: str) -> None:
    """The stopped controller's site goes offline (the live central holds polls 1-2 s: offline
    after 2 holds + 5 s); the alarms page, filtered to it, shows SITE_OFFLINE by itself (the
    table refreshes); the operator opens it and acknowledges it."""
    page.goto(f"{live.url}/ui/alarms?kind=SITE_OFFLINE&state=active&site={site_id}")
    page.wait_for_selector("html[data-ready]")
    row = page.locator("tr[data-alarm]")
    expect(row).to_have_count(1, timeout=60_000)
    expect(row).to_contain_text("not acknowledged")
    shot(page, "alarm-of-the-stopped-site")
    row.get_by_role("link", name="SITE_OFFLINE").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SITE_OFFLINE")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text("acknowledged")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    shot(page, "alarm-acknowledged")
    alarm_id = page.url.rsplit("/", 1)[-1]
    assert live.api.get(f"nsfm/v1/alarms/{alarm_id}").json()["ackState"] == "ACKNOWLEDGED"
