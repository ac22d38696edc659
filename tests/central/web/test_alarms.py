"""The alarms pages: filters (each bad value named), root causes first with the alarms they
explain nested under them, paging, an alarm's root-cause tree, acknowledging (a second time:
the API's 409 words), and a tenant's alarms only."""

from __future__ import annotations

import re

from edgewise.central.services.alarm_terms import Kind, ManagedObject
from tests.central.api.conftest import Central
from tests.central.api.nsfm_alarms import raise_alarm
from tests.central.web.conftest import ADMIN_PASSWORD, Portal, csrf_of


def fleet(portal: Portal) -> tuple[Central, dict[str, str]]:
    """Tenant acme with a site whose SITE_OFFLINE root explains a VNF_DOWN, and a second site
    with a LINK_DOWN of its own; the ids by name."""
    central = Central(portal.client, portal.admin)
    acme = central.tenant("acme")
    sites = {}
    for name in ("hq", "branch"):
        made = portal.client.post(
            "/api/v1/sites", json={"name": name, "kind": "on-premise"}, headers=acme.headers
        )
        assert made.status_code == 201, made.text
        sites[name] = made.json()["id"]
    root = raise_alarm(central, Kind.SITE_OFFLINE, tenant_id=acme.tenant_id, site_id=sites["hq"])
    vnf = raise_alarm(
        central, Kind.VNF_DOWN, tenant_id=acme.tenant_id, site_id=sites["hq"], vnf="ns-1/fw",
        managed=(ManagedObject.SITE, sites["hq"]), root=root,
    )  # fmt: skip
    link = raise_alarm(central, Kind.LINK_DOWN, tenant_id=acme.tenant_id, site_id=sites["branch"])
    ids = {"root": root, "vnf": vnf, "link": link, "tenant": acme.tenant_id or ""}
    return central, ids | {f"site-{k}": v for k, v in sites.items()}


def rows(page: str) -> list[str]:
    """The alarm ids of the list's rows, in order."""
    return re.findall(r'<tr data-alarm="([^"]+)"', page)


def test_the_list_puts_root_causes_first_with_what_they_explain(portal: Portal) -> None:
    _, ids = fleet(portal)
    portal.sign_in("admin", ADMIN_PASSWORD)
    page = portal.client.get("/ui/alarms")
    assert page.status_code == 200
    order = rows(page.text)
    assert set(order) == {ids["root"], ids["vnf"], ids["link"]}
    assert order[-1] == ids["vnf"]  # the one correlated alarm after both roots
    assert "explains 1 alarm</summary>" in page.text
    nested = page.text.split(f'<details data-root="{ids["root"]}">', 1)[1].split("</details>", 1)[0]
    assert f"/ui/alarms/{ids['vnf']}" in nested
    assert "hq" in page.text  # site names, not only ids
    assert 'aria-current="page">Alarms' in page.text


def test_filters_narrow_the_list_and_a_bad_one_is_named(portal: Portal) -> None:
    _, ids = fleet(portal)
    portal.sign_in("admin", ADMIN_PASSWORD)
    get = portal.client.get
    assert rows(get("/ui/alarms?severity=CRITICAL").text) == [ids["root"]]
    assert rows(get("/ui/alarms?kind=LINK_DOWN").text) == [ids["link"]]
    assert set(rows(get(f"/ui/alarms?site={ids['site-hq']}").text)) == {ids["root"], ids["vnf"]}
    assert rows(get("/ui/alarms?state=cleared").text) == []
    assert len(rows(get("/ui/alarms?state=active&ack=no").text)) == 3
    assert rows(get("/ui/alarms?ack=yes").text) == []
    bad = get("/ui/alarms?severity=LOUD&ack=maybe")
    assert bad.status_code == 400
    assert "severity: not one of CRITICAL" in bad.text
    assert "ack: not one of yes, no" in bad.text
    assert 'id="f-severity" name="severity" aria-invalid="true"' in bad.text
    too_long = get("/ui/alarms", params={"site": "x" * 37})
    assert too_long.status_code == 422
    assert "site" in too_long.text
    assert get("/ui/alarms?limit=1000").status_code == 422
    forged = get("/ui/alarms?marker=not-a-marker")
    assert forged.status_code == 400
    assert "nextpage_opaque_marker" in forged.text


def test_pages_follow_each_other_roots_first(portal: Portal) -> None:
    _, ids = fleet(portal)
    portal.sign_in("admin", ADMIN_PASSWORD)
    seen: list[str] = []
    url = "/ui/alarms?limit=1"
    for _ in range(5):  # three alarms, one a page
        page = portal.client.get(url).text
        seen += rows(page)
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    assert len(seen) == 3
    assert set(seen[:2]) == {ids["root"], ids["link"]}
    assert seen[2] == ids["vnf"]


def test_a_script_gets_the_table_alone(portal: Portal) -> None:
    fleet(portal)
    portal.sign_in("admin", ADMIN_PASSWORD)
    fragment = portal.client.get("/ui/alarms", headers={"X-Requested-With": "edgewise"}).text
    assert fragment.lstrip().startswith("<table")
    assert len(rows(fragment)) == 3


def test_an_alarms_page_shows_its_tree_and_acknowledges_once(portal: Portal) -> None:
    _, ids = fleet(portal)
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    page = portal.client.get(f"/ui/alarms/{ids['vnf']}").text
    tree = page.split("Root-cause tree", 1)[1]
    assert f'/ui/alarms/{ids["root"]}">SITE_OFFLINE' in tree
    assert "explains 1 alarm" in tree
    assert "(this alarm)" in tree
    url = f"/ui/alarms/{ids['root']}/acknowledge"
    refused = portal.client.post(url, data={"csrf": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    done = portal.client.post(url, data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    shown = portal.client.get(done.headers["location"]).text
    assert "acknowledged." in shown  # the notice
    assert '<span class="badge ok">acknowledged</span>' in shown
    assert 'action="/ui/alarms/' not in shown  # no second button
    api = portal.client.get(f"/nsfm/v1/alarms/{ids['root']}", headers=portal.admin.headers)
    assert api.json()["ackState"] == "ACKNOWLEDGED"
    again = portal.client.post(url, data={"csrf": csrf})
    assert again.status_code == 409
    assert f"alarm {ids['root']} is already acknowledged" in again.text
    assert 'role="alert"' in again.text


def test_a_customer_sees_its_alarms_only(portal: Portal) -> None:
    central, ids = fleet(portal)
    other = central.tenant("globex")
    site = portal.client.post(
        "/api/v1/sites", json={"name": "plant", "kind": "on-premise"}, headers=other.headers
    ).json()["id"]
    theirs = raise_alarm(central, Kind.SITE_OFFLINE, tenant_id=other.tenant_id, site_id=site)
    operators = raise_alarm(central, Kind.LINK_DOWN, tenant_id=None, site_id=site)
    under_it = raise_alarm(
        central, Kind.VNF_DOWN, tenant_id=other.tenant_id, site_id=site, vnf="ns-2/fw",
        root=operators,
    )  # fmt: skip
    portal.user("eve", "eve-password-123", tenant_id=other.tenant_id, role="tenant")
    csrf = portal.sign_in("eve@globex", "eve-password-123")
    listed = portal.client.get("/ui/alarms").text
    assert rows(listed) == [theirs, under_it]
    assert operators not in listed  # the operator's root over its alarm: not even its id
    assert operators not in portal.client.get(f"/ui/alarms/{under_it}").text
    hidden = portal.client.get(f"/ui/alarms/{ids['root']}")
    assert hidden.status_code == 404
    assert "SITE_OFFLINE" not in hidden.text
    assert ids["site-hq"] not in hidden.text
    ack = portal.client.post(f"/ui/alarms/{ids['root']}/acknowledge", data={"csrf": csrf})
    assert ack.status_code == 404
    api = portal.client.get(f"/nsfm/v1/alarms/{ids['root']}", headers=portal.admin.headers)
    assert api.json()["ackState"] == "UNACKNOWLEDGED"
    assert csrf_of(portal.client.get("/ui/alarms").text) == csrf


def test_a_root_explaining_many_shows_fifty_and_counts_the_rest(portal: Portal) -> None:
    central, ids = fleet(portal)
    for n in range(51):  # with the fleet's VNF_DOWN: 52 under the root
        raise_alarm(
            central, Kind.VNF_DOWN, tenant_id=ids["tenant"], site_id=ids["site-hq"],
            vnf=f"ns-1/vnf{n}", root=ids["root"],
        )  # fmt: skip
    portal.sign_in("admin", ADMIN_PASSWORD)
    for url in ("/ui/alarms?kind=SITE_OFFLINE", f"/ui/alarms/{ids['root']}"):
        page = portal.client.get(url).text
        assert "explains 52 alarms</summary>" in page, url
        assert "and 2 more" in page
        assert page.count("/ui/alarms/") - page.count(f"/ui/alarms/{ids['root']}") >= 50
