"""The dashboard's figures (in-process): sites by presence and sync state, alarms by severity
with root causes apart, operations in flight, rollouts; each a link to its filtered list, the
same figures as the API's fleet summary, and a customer's only its own tenant's."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from tests.central.web import sites_seed as seed
from tests.central.web.conftest import ADMIN_PASSWORD, Portal


def figure(page: str, href: str) -> int:
    """The number a dashboard link to `href` shows."""
    found = re.search(rf'href="{re.escape(href)}"[^>]*>(?:<span class="figure[^"]*">)?(\d+)<', page)
    assert found, f"no figure links to {href}"
    return int(found.group(1))


def fleet(portal: Portal, tmp_path: Path) -> tuple[str, str]:
    """Tenant A: a1 online in sync, a2 offline (behind), a3 online but degraded (failed), a4
    never enrolled, a5 online one revision behind; tenant B: b1 online in sync. Alarms of A:
    a critical root cause with a major alarm correlated; of B: a minor root cause. One
    operation processing and one failed-temp of A, one processing of B."""
    a, b = seed.tenant(portal, "acme"), seed.tenant(portal, "bravo")
    a1, a2, a3, _, a5 = seed.sites(portal, a, ["a1", "a2", "a3", "a4", "a5"])
    (b1,) = seed.sites(portal, b, ["b1"])
    with seed.store(tmp_path) as session:
        seed.set_state(session, a1, seen_ago=timedelta(seconds=5))
        seed.set_state(session, a2, seen_ago=timedelta(days=1))
        seed.set_state(session, a3, seen_ago=timedelta(seconds=5), state="degraded")
        seed.set_state(session, a5, seen_ago=timedelta(seconds=5), desired=2, applied=1)
        seed.set_state(session, b1, seen_ago=timedelta(seconds=5))
        seed.alarm(session, a, a2, "CRITICAL", root=True, offline=True)
        seed.alarm(session, a, a2, "MAJOR", root=False, offline=False)
        seed.alarm(session, b, b1, "MINOR", root=True, offline=False)
        seed.operation(session, a, "PROCESSING", a5)
        seed.operation(session, a, "FAILED_TEMP", a5)
        seed.operation(session, a, "COMPLETED", a5)
        seed.operation(session, b, "PROCESSING", b1)
    return a, b


def test_the_operator_sees_the_whole_fleet_each_figure_a_link(
    portal: Portal, tmp_path: Path
) -> None:
    fleet(portal, tmp_path)
    portal.sign_in("admin", ADMIN_PASSWORD)
    page = portal.client.get("/ui/").text
    assert "Signed in as admin" in page
    presence = {p: figure(page, f"/ui/sites?presence={p}") for p in ("online", "offline",
                                                                   "never-enrolled")}  # fmt: skip
    assert presence == {"online": 4, "offline": 1, "never-enrolled": 1}
    sync = {s: figure(page, f"/ui/sites?sync={s}") for s in ("in-sync", "behind", "failed")}
    assert sync == {"in-sync": 2, "behind": 2, "failed": 1}
    assert figure(page, "/ui/alarms?severity=CRITICAL&amp;state=active&amp;root=yes") == 1
    assert figure(page, "/ui/alarms?severity=MAJOR&amp;state=active&amp;root=no") == 1
    assert figure(page, "/ui/alarms?severity=MAJOR&amp;state=active&amp;root=yes") == 0
    assert figure(page, "/ui/alarms?severity=MINOR&amp;state=active&amp;root=yes") == 1
    assert figure(page, "/ui/operations?state=PROCESSING") == 2
    assert figure(page, "/ui/operations?state=FAILED_TEMP") == 1
    assert page.index("CRITICAL") < page.index("MAJOR") < page.index("MINOR")


def test_the_figures_agree_with_the_apis_fleet_summary(portal: Portal, tmp_path: Path) -> None:
    fleet(portal, tmp_path)
    summary = portal.client.get("/api/v1/site-status", headers=portal.admin.headers).json()
    portal.sign_in("admin", ADMIN_PASSWORD)
    page = portal.client.get("/ui/").text
    for presence, count in summary["presence"].items():
        assert figure(page, f"/ui/sites?presence={presence}") == count, presence
    assert figure(page, "/ui/sites?sync=in-sync") == summary["inSync"]


def test_a_figure_counts_the_rows_its_link_lists(portal: Portal, tmp_path: Path) -> None:
    fleet(portal, tmp_path)
    portal.sign_in("admin", ADMIN_PASSWORD)
    page = portal.client.get("/ui/").text
    for href in ("/ui/sites?presence=online", "/ui/sites?presence=offline",
                 "/ui/sites?presence=never-enrolled", "/ui/sites?sync=in-sync",
                 "/ui/sites?sync=behind", "/ui/sites?sync=failed"):  # fmt: skip
        listed = portal.client.get(href)
        assert listed.status_code == 200, listed.text
        rows = re.findall(r'<th scope="row"><a href="/ui/sites/', listed.text)
        assert len(rows) == figure(page, href), href
    for href, row in (
        ("/ui/alarms?severity=CRITICAL&amp;state=active&amp;root=yes", r"<tr data-alarm="),
        ("/ui/alarms?severity=MAJOR&amp;state=active&amp;root=no", r"<tr data-alarm="),
        ("/ui/alarms?severity=MINOR&amp;state=active&amp;root=yes", r"<tr data-alarm="),
        ("/ui/operations?state=PROCESSING", r'<th scope="row"><a href="/ui/operations/'),
        ("/ui/operations?state=FAILED_TEMP", r'<th scope="row"><a href="/ui/operations/'),
    ):
        listed = portal.client.get(href.replace("&amp;", "&"))
        assert listed.status_code == 200, listed.text
        assert len(re.findall(row, listed.text)) == figure(page, href), href


def test_a_customer_sees_only_its_tenants_figures(portal: Portal, tmp_path: Path) -> None:
    a, _ = fleet(portal, tmp_path)
    portal.user("carol", "carol-password-1", tenant_id=a, role="tenant")
    portal.sign_in("carol@acme", "carol-password-1")
    page = portal.client.get("/ui/").text
    assert "Signed in as carol" in page
    assert figure(page, "/ui/sites?presence=online") == 3  # b1 is bravo's
    assert figure(page, "/ui/sites?sync=in-sync") == 1
    minor = "/ui/alarms?severity=MINOR&amp;state=active&amp;root=yes"
    assert figure(page, minor) == 0  # bravo's alarm
    assert figure(page, "/ui/operations?state=PROCESSING") == 1


def test_the_rollouts_fragment_reloads_alone(portal: Portal) -> None:
    portal.sign_in("admin", ADMIN_PASSWORD)
    page = portal.client.get("/ui/").text
    assert 'data-refresh="/ui/dashboard/rollouts" data-every="2"' in page
    fragment = portal.client.get("/ui/dashboard/rollouts", headers={"X-Requested-With": "edgewise"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "No rollout is running or paused" in fragment.text


def test_a_rollouts_progress_is_live_in_the_fragment(portal: Portal, tmp_path: Path) -> None:
    a = seed.tenant(portal, "acme")
    s1, s2, s3, s4 = seed.sites(portal, a, ["r1", "r2", "r3", "r4"])
    with seed.store(tmp_path) as session:
        rollout = seed.rollout(session, a, "fw-v2", {s1: "DONE", s2: "RUNNING", s3: "PENDING",
                                                     s4: "PENDING"})  # fmt: skip
    portal.sign_in("admin", ADMIN_PASSWORD)
    page = portal.client.get("/ui/").text
    assert f'<a href="/ui/rollouts/{rollout}">fw-v2</a>' in page
    assert '<progress max="4" value="1"' in page
    assert "1 / 4 (25%)" in page
    with seed.store(tmp_path) as session:
        seed.rollout_site(session, rollout, s2, "DONE")
        seed.rollout_site(session, rollout, s3, "FAILED")
    fragment = portal.client.get("/ui/dashboard/rollouts", headers={"X-Requested-With": "edgewise"})
    assert '<progress max="4" value="3"' in fragment.text
    assert "3 / 4 (75%)" in fragment.text
    assert '<span class="bad">1</span>' in fragment.text
