"""The operator console's NS instances and operations (in-process): the list and its filters,
creating an instance, the placement's dry run, instantiating, and only the actions an
operation's state allows."""

from __future__ import annotations

import re

from tests.central.api.conftest import Central
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_rollouts import fleet
from tests.central.web.conftest import ADMIN_PASSWORD, Portal

NS_ID = re.compile(r"/ui/ns/([0-9a-f-]{36})")
OP_ID = re.compile(r"/ui/operations/([0-9a-f-]{36})")


def start(portal: Portal) -> tuple[Central, str, str]:
    """An onboarded NSD, a fleet (eu: 2 sites, us: 1) of tenant acme, the admin signed in."""
    central = Central(portal.client, portal.admin)
    nsd = onboard_nsd(central, central.admin)
    fleet(central, central.tenant("acme"), eu=2, us=1)
    return central, nsd, portal.sign_in("admin", ADMIN_PASSWORD)


def create_ns(portal: Portal, csrf: str, nsd: str, name: str = "vcpe-one") -> str:
    made = portal.client.post(
        "/ui/ns", data={"csrf": csrf, "nsd": nsd, "name": name}, follow_redirects=False
    )
    assert made.status_code == 303, made.text
    found = NS_ID.match(made.headers["location"])
    assert found, made.headers["location"]
    return found.group(1)


def test_an_instance_is_created_previewed_and_instantiated_on_a_label_selector(
    portal: Portal,
) -> None:
    _, nsd, csrf = start(portal)
    client = portal.client
    form = client.get("/ui/ns/new")
    assert f'value="{nsd}"' in form.text
    incomplete = client.post("/ui/ns", data={"csrf": csrf, "nsd": nsd, "name": " "})
    assert incomplete.status_code == 422
    assert 'id="name-error" class="field-error" role="alert"' in incomplete.text
    assert 'aria-invalid="true" aria-describedby="name-error"' in incomplete.text
    ns_id = create_ns(portal, csrf, nsd)
    page = client.get(f"/ui/ns/{ns_id}")
    assert "NOT_INSTANTIATED" in page.text
    assert "Delete this NS instance" in page.text

    preview = client.post(f"/ui/ns/{ns_id}/preview", data={"csrf": csrf, "labels": "region=eu"})
    assert preview.status_code == 200, preview.text
    assert "Dry run: 2 site(s) would be chosen" in preview.text
    assert "labels do not match region=eu (has region=us)" in preview.text
    bad = client.post(f"/ui/ns/{ns_id}/preview", data={"csrf": csrf, "labels": "region"})
    assert bad.status_code == 422
    assert "&#39;region&#39; is not key=value" in bad.text
    assert 'id="labels" name="labels" value="region"' in bad.text
    assert 'aria-invalid="true" aria-describedby="labels-error"' in bad.text
    nowhere = client.post(
        f"/ui/ns/{ns_id}/instantiate", data={"csrf": csrf, "labels": "region=mars"}
    )
    assert nowhere.status_code == 422
    assert 'role="alert"' in nowhere.text

    started = client.post(
        f"/ui/ns/{ns_id}/instantiate",
        data={"csrf": csrf, "labels": "region=eu", "flavour": "default"},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    op_match = OP_ID.match(started.headers["location"])
    assert op_match
    op_page = client.get(started.headers["location"])
    assert "INSTANTIATE" in op_page.text
    assert 'data-refresh="/ui/operations/' in op_page.text
    after = client.get(f"/ui/ns/{ns_id}")
    assert "INSTANTIATE is PROCESSING" in after.text
    assert f'href="/ui/operations/{op_match.group(1)}">follow it' in after.text
    assert f'action="/ui/ns/{ns_id}/instantiate"' not in after.text
    listed = client.get("/ui/ns", params={"state": "NOT_INSTANTIATED", "name": "VCPE"})
    assert f"/ui/ns/{ns_id}" in listed.text
    assert f"/ui/ns/{ns_id}" not in client.get("/ui/ns", params={"name": "nothing"}).text


def test_an_operation_offers_only_the_actions_its_state_allows(portal: Portal) -> None:
    _, nsd, csrf = start(portal)
    client = portal.client
    ns_id = create_ns(portal, csrf, nsd)
    started = client.post(
        f"/ui/ns/{ns_id}/instantiate", data={"csrf": csrf, "labels": "region=eu"},
        follow_redirects=False,
    )  # fmt: skip
    op_url = started.headers["location"]
    processing = client.get(op_url, headers={"X-Requested-With": "edgewise"})
    assert "<html" not in processing.text  # the live fragment only
    assert "PROCESSING" in processing.text
    assert f'action="{op_url}/cancel"' in processing.text
    assert f'action="{op_url}/retry"' not in processing.text
    assert "only an operation in FAILED_TEMP can be retried; this one is PROCESSING" in (
        processing.text
    )
    refused = client.post(f"{op_url}/retry", data={"csrf": csrf})
    assert refused.status_code == 409  # the service's rule, said on an HTML page
    assert "can be retried only when FAILED_TEMP" in refused.text
    assert 'role="alert"' in refused.text
    cancelled = client.post(f"{op_url}/cancel", data={"csrf": csrf}, follow_redirects=False)
    assert cancelled.status_code == 303
    failed_temp = client.get(op_url).text
    assert "FAILED_TEMP" in failed_temp
    for action in ("retry", "rollback", "fail"):
        assert f'action="{op_url}/{action}"' in failed_temp
    assert f'action="{op_url}/cancel"' not in failed_temp
    listed = client.get("/ui/operations", params={"state": "FAILED_TEMP"})
    assert op_url in listed.text
    assert op_url not in client.get("/ui/operations", params={"state": "COMPLETED"}).text
    assert client.post(f"{op_url}/fail", data={"csrf": csrf}).status_code == 200
    assert "FAILED" in client.get(op_url, headers={"X-Requested-With": "edgewise"}).text
    forged = client.post(f"{op_url}/retry", data={"csrf": "forged"})
    assert forged.status_code == 403


def test_bad_filters_and_pages_are_html_messages_naming_them(portal: Portal) -> None:
    portal.sign_in("admin", ADMIN_PASSWORD)
    for url, params, named in (
        ("/ui/ns", {"state": "RUNNING"}, "state"),
        ("/ui/ns", {"name": "x" * 101}, "name"),
        ("/ui/ns", {"size": "101"}, "size"),
        ("/ui/operations", {"state": "DONE"}, "state"),
        ("/ui/operations", {"start": "-1"}, "start"),
        ("/ui/rollouts", {"size": "0"}, "size"),
    ):
        answer = portal.client.get(url, params=params)
        assert answer.status_code == 422, (url, params)
        assert answer.headers["content-type"].startswith("text/html")
        assert re.search(rf'role="alert">[^<]*\b{named}\b', answer.text), answer.text
    missing = portal.client.get("/ui/ns/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert "does not exist" in missing.text


def test_the_list_is_paged_at_most_a_hundred(portal: Portal) -> None:
    _, nsd, csrf = start(portal)
    for index in range(3):
        create_ns(portal, csrf, nsd, f"ns-{index}")
    first = portal.client.get("/ui/ns", params={"size": 2})
    assert first.text.count('<th scope="row"><a href="/ui/ns/') == 2
    assert "1\N{EN DASH}2 of 3" in first.text
    assert 'rel="next"' in first.text
    second = portal.client.get("/ui/ns", params={"size": 2, "start": 2})
    assert second.text.count('<th scope="row"><a href="/ui/ns/') == 1
    assert 'rel="prev"' in second.text


def test_an_empty_filter_is_no_filter(portal: Portal) -> None:
    portal.sign_in("admin", ADMIN_PASSWORD)
    for url in ("/ui/ns?state=&name=", "/ui/operations?state=&operation=&ns="):
        assert portal.client.get(url).status_code == 200, url


def test_a_tenant_sees_only_its_own_instances_and_their_sites_by_name(portal: Portal) -> None:
    central = Central(portal.client, portal.admin)
    nsd = onboard_nsd(central, central.admin)
    acme = central.tenant("acme")
    fleet(central, acme, eu=1)
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    providers = create_ns(portal, csrf, nsd, "provider-ns")
    portal.client.post(
        f"/ui/ns/{providers}/instantiate", data={"csrf": csrf, "labels": "region=eu"}
    )
    assert ">eu-0</a>" in portal.client.get(f"/ui/ns/{providers}").text  # a name, not an id
    made = portal.client.post(
        "/nslcm/v1/ns_instances", json={"nsdId": nsd, "nsName": "acme-ns"}, headers=acme.headers
    )
    assert made.status_code == 201, made.text
    assert acme.tenant_id
    portal.user("carol", "carol-password-1", tenant_id=acme.tenant_id, role="tenant")
    portal.client.cookies.clear()
    portal.sign_in("carol@acme", "carol-password-1")
    listed = portal.client.get("/ui/ns").text
    assert "acme-ns" in listed
    assert "provider-ns" not in listed
    assert portal.client.get(f"/ui/ns/{providers}").status_code == 404
    assert "/ui/operations/" not in portal.client.get("/ui/operations").text  # not hers
