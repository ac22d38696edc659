"""The sites list and a site's page (in-process): every filter, keyset pages both ways, a bad
filter named on a 400 page, link charts from the intake's history, VNFs and events, the
enrollment token shown once and the revocation (CSRF-checked), another tenant's site absent."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

from tests.central.api.sdwan import MPLS
from tests.central.web import sites_seed as seed
from tests.central.web.conftest import ADMIN_PASSWORD, Portal, csrf_of


def names(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/ui/sites/[^"]+">([^<]+)</a></th>', page)


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page)
    return unescape(found.group(1)) if found else None


def test_filters_narrow_the_list(portal: Portal, tmp_path: Path) -> None:
    a, b = seed.tenant(portal, "acme"), seed.tenant(portal, "bravo")
    eu = seed.sites(portal, a, ["paris", "berlin"], labels={"region": "eu", "tier": "gold"})
    us = seed.sites(portal, a, ["boston"], labels={"region": "us"})
    seed.sites(portal, b, ["bern"], labels={"region": "eu"}, kind="cloud")
    with seed.store(tmp_path) as session:
        seed.set_state(session, eu[0], seen_ago=timedelta(seconds=3))
        seed.set_state(session, us[0], seen_ago=timedelta(days=2))
    portal.sign_in("admin", ADMIN_PASSWORD)
    get = portal.client.get
    assert names(get("/ui/sites").text) == ["berlin", "bern", "boston", "paris"]
    assert names(get("/ui/sites?label=region%3Deu").text) == ["berlin", "bern", "paris"]
    assert names(get("/ui/sites?label=region%3Deu&label=tier%3Dgold").text) == ["berlin", "paris"]
    assert names(get("/ui/sites?label=region%3Deu,tier%3Dgold").text) == ["berlin", "paris"]
    assert names(get("/ui/sites?kind=cloud").text) == ["bern"]
    assert names(get("/ui/sites?presence=online").text) == ["paris"]
    assert names(get("/ui/sites?presence=offline").text) == ["boston"]
    assert names(get("/ui/sites?presence=never-enrolled").text) == ["berlin", "bern"]
    assert names(get("/ui/sites?sync=in-sync").text) == ["paris"]
    assert names(get("/ui/sites?sync=behind").text) == ["boston"]
    assert names(get(f"/ui/sites?tenant={b}").text) == ["bern"]
    assert f'<a href="/ui/sites?tenant={b}">bravo</a>' in get("/ui/sites").text
    assert names(get("/ui/sites?name=be").text) == ["berlin", "bern"]
    assert names(get("/ui/sites?name=ber&label=region%3Deu&kind=on-premise").text) == ["berlin"]
    assert "No site matches" in get("/ui/sites?name=zzz").text


def test_a_bad_filter_is_a_400_page_naming_it(portal: Portal) -> None:
    portal.sign_in("admin", ADMIN_PASSWORD)
    cases = {
        "/ui/sites?presence=lost": ("presence", "'lost' is not one of online, offline"),
        "/ui/sites?sync=late": ("sync", "'late' is not one of in-sync, behind, failed"),
        "/ui/sites?kind=boat": ("kind", "'boat' is not one of"),
        "/ui/sites?label=region": ("label", "'region' is not key=value"),
        "/ui/sites?colour=red": ("colour", "is not a filter of this list"),
        "/ui/sites?name=" + "x" * 300: ("name", "is too long"),
        "/ui/sites?after=forged": ("after", "not one this server issued"),
    }
    for url, (name, message) in cases.items():
        answer = portal.client.get(url)
        assert answer.status_code == 400, url
        text = unescape(answer.text)
        assert f"Filter {name}: " in re.sub(r"</?strong>", "", text), url
        assert message in text, url
        assert 'role="alert"' in answer.text


def test_a_customer_sees_its_own_sites_and_may_not_filter_by_tenant(
    portal: Portal, tmp_path: Path
) -> None:
    a, b = seed.tenant(portal, "acme"), seed.tenant(portal, "bravo")
    (mine,) = seed.sites(portal, a, ["mine"])
    (theirs,) = seed.sites(portal, b, ["theirs"])
    portal.user("carol", "carol-password-1", tenant_id=a, role="tenant")
    portal.sign_in("carol@acme", "carol-password-1")
    assert names(portal.client.get("/ui/sites").text) == ["mine"]
    refused = portal.client.get(f"/ui/sites?tenant={b}")
    assert refused.status_code == 400
    assert "only an operator filters by tenant" in refused.text
    own = portal.client.get(f"/ui/sites/{mine}")
    assert own.status_code == 200
    assert "Site mine" in own.text
    assert "<dt>Tenant</dt>" not in own.text  # an operator's detail
    absent = portal.client.get(f"/ui/sites/{theirs}")
    assert absent.status_code == 404
    assert f"site {theirs} does not exist" in absent.text


def test_pages_of_fifty_go_forward_and_back(portal: Portal) -> None:
    a = seed.tenant(portal, "acme")
    made = [f"s{i:03d}" for i in range(120)]
    seed.sites(portal, a, made)
    portal.sign_in("admin", ADMIN_PASSWORD)
    url: str | None = "/ui/sites?name=s"
    pages: list[list[str]] = []
    urls: list[str] = []
    while url is not None and len(pages) < 5:
        answer = portal.client.get(url)
        assert answer.status_code == 200
        pages.append(names(answer.text))
        urls.append(url)
        url = link(answer.text, "next")
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [n for p in pages for n in p] == made
    assert link(portal.client.get(urls[0]).text, "prev") is None
    third = portal.client.get(urls[2]).text
    back = link(third, "prev")
    assert back is not None
    assert "name=s" in back
    second = portal.client.get(back).text
    assert names(second) == pages[1]
    first = link(second, "prev")
    assert first is not None
    assert names(portal.client.get(first).text) == pages[0]
    forward = link(second, "next")
    assert forward is not None
    assert names(portal.client.get(forward).text) == pages[2]


def test_a_sites_page_charts_its_links_and_shows_vnfs_events_revisions(
    portal: Portal, tmp_path: Path
) -> None:
    a = seed.tenant(portal, "acme")
    (site,) = seed.sites(portal, a, ["paris"])
    added = portal.client.post(f"/api/v1/sites/{site}/links", json=MPLS,
                               headers=portal.admin.headers)  # fmt: skip
    assert added.status_code == 201, added.text
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    samples = [(now - timedelta(minutes=m), 20.0 + m) for m in range(1, 30)]
    with seed.store(tmp_path) as session:
        seed.set_state(session, site, seen_ago=timedelta(seconds=2), desired=3, applied=2)
        seed.history(session, site, "mpls", samples)
        seed.event(session, site, "vnf-restarted", vnf="fw")
    portal.sign_in("admin", ADMIN_PASSWORD)
    page = portal.client.get(f"/ui/sites/{site}?range=1h").text
    for title in ("Latency of mpls", "Loss of mpls", "Jitter of mpls"):
        assert f"<title>{title} (" in page
    assert page.count('<svg class="chart" role="img"') == 3
    assert page.count('<path class="line" d="M') == 3
    assert "<summary>Latency of mpls as a table</summary>" in page
    assert "<td>48.00</td>" in page  # the sample 28 minutes old (20 + 28)
    assert re.search(r"<td>3</td>\s*<td>2 <span class=\"warn\">\(1 behind\)</span></td>", page)
    assert "vnf-restarted" in page
    assert "vnf=fw" in page
    assert 'aria-current="true">1h<' in page
    day = portal.client.get(f"/ui/sites/{site}").text
    assert 'aria-current="true">24h<' in day
    assert day.count('<svg class="chart"') == 3
    bad = portal.client.get(f"/ui/sites/{site}?range=1y")
    assert bad.status_code == 400
    assert "range &#39;1y&#39; is not one of 1h, 24h, 7d" in bad.text


def test_a_site_without_history_says_so(portal: Portal) -> None:
    a = seed.tenant(portal, "acme")
    (site,) = seed.sites(portal, a, ["quiet"])
    portal.client.post(f"/api/v1/sites/{site}/links", json=MPLS, headers=portal.admin.headers)
    portal.sign_in("admin", ADMIN_PASSWORD)
    page = portal.client.get(f"/ui/sites/{site}").text
    assert "No history of this link in the last 24h" in page
    assert "The site reports no VNF" in page


def test_a_token_is_shown_once_and_a_revocation_needs_the_csrf_token(portal: Portal) -> None:
    a = seed.tenant(portal, "acme")
    (site,) = seed.sites(portal, a, ["paris"])
    portal.sign_in("admin", ADMIN_PASSWORD)
    page = portal.client.get(f"/ui/sites/{site}").text
    csrf = csrf_of(page)
    assert 'data-confirm="Revoke site paris?' in page
    issued = portal.client.post(f"/ui/sites/{site}/enrollment-token", data={"csrf": csrf})
    assert issued.status_code == 200
    token = re.search(r'<code class="token" id="token">(ewe_[^<]+)</code>', issued.text)
    assert token, issued.text
    assert token.group(1) not in portal.client.get(f"/ui/sites/{site}").text
    forged = portal.client.post(f"/ui/sites/{site}/revoke", data={"csrf": "nope"})
    assert forged.status_code == 403
    revoked = portal.client.post(f"/ui/sites/{site}/revoke", data={"csrf": csrf})
    assert revoked.status_code == 200  # followed the redirect to the site's page
    assert "Site paris is revoked" in revoked.text
    state = portal.client.get(f"/api/v1/sites/{site}", headers=portal.admin.headers).json()
    assert state["enrollment"]["state"] == "revoked"
