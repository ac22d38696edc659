"""The catalog page (in-process): VNF packages and NSDs with their states, the drop zones
(real file inputs with labels), enable/disable, and delete with the service's 409 said on the
page when the item is enabled or in use."""

from __future__ import annotations

from tests.central.api.conftest import Central
from tests.central.api.test_catalog import onboard_nsd
from tests.central.web.conftest import ADMIN_PASSWORD, Portal


def test_items_are_listed_disabled_enabled_and_deleted_with_the_409_said(portal: Portal) -> None:
    central = Central(portal.client, portal.admin)
    nsd = onboard_nsd(central, central.admin)
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    client = portal.client
    page = client.get("/ui/catalog")
    assert page.status_code == 200
    for kind in ("vnfpkg", "nsd"):
        assert f'<label for="drop-{kind}">' in page.text
        assert f'<input id="drop-{kind}" type="file"' in page.text
    assert '<script src="/ui/static/catalog.js' in page.text
    assert f'<tr id="nsd-{nsd}">' in page.text
    assert "ONBOARDED" in page.text

    enabled = client.post(f"/ui/catalog/nsd/{nsd}/delete", data={"csrf": csrf})
    assert enabled.status_code == 409
    assert "is ENABLED; disable it before deleting it" in enabled.text
    assert 'class="error" role="alert"' in enabled.text
    wrong = client.post(f"/ui/catalog/nsd/{nsd}/state", data={"csrf": csrf, "state": "OFF"})
    assert wrong.status_code == 422
    assert "state: expected ENABLED or DISABLED" in wrong.text
    disabled = client.post(
        f"/ui/catalog/nsd/{nsd}/state",
        data={"csrf": csrf, "state": "DISABLED"},
        follow_redirects=False,
    )
    assert disabled.status_code == 303
    listed = client.get("/ui/catalog").text
    assert "DISABLED" in listed
    assert ">Enable</button>" in listed
    again = client.post(f"/ui/catalog/nsd/{nsd}/state", data={"csrf": csrf, "state": "DISABLED"})
    assert again.status_code == 409
    assert "already DISABLED" in again.text
    forged = client.post(f"/ui/catalog/nsd/{nsd}/delete", data={"csrf": "forged"})
    assert forged.status_code == 403
    unknown = client.post(f"/ui/catalog/pnfd/{nsd}/delete", data={"csrf": csrf})
    assert unknown.status_code == 404
    deleted = client.post(f"/ui/catalog/nsd/{nsd}/delete", data={"csrf": csrf})
    assert deleted.status_code == 200  # followed to the catalog
    assert f"{nsd} deleted" in deleted.text
    assert f'<tr id="nsd-{nsd}">' not in deleted.text


def test_an_nsd_in_use_cannot_be_deleted(portal: Portal) -> None:
    central = Central(portal.client, portal.admin)
    nsd = onboard_nsd(central, central.admin)
    made = portal.client.post(
        "/nslcm/v1/ns_instances", json={"nsdId": nsd, "nsName": "x"}, headers=portal.admin.headers
    )
    assert made.status_code == 201, made.text
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    portal.client.post(f"/ui/catalog/nsd/{nsd}/state", data={"csrf": csrf, "state": "DISABLED"})
    refused = portal.client.post(f"/ui/catalog/nsd/{nsd}/delete", data={"csrf": csrf})
    assert refused.status_code == 409
    assert "is IN_USE and cannot be deleted" in refused.text
