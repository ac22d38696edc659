"""A site's WAN links over the API: operators set them, every field read by the contract (422
naming it), every change a new revision of the site's document, tenants read their sites'."""

from __future__ import annotations

from tests.central.api.conftest import Central
from tests.central.api.sdwan import INET, LTE, MPLS, document, new_site


def test_links_are_added_changed_removed_and_written_into_the_document(central: Central) -> None:
    acme = central.tenant("acme")
    admin = central.admin.headers
    client = central.client
    site = new_site(central, acme, "branch", MPLS)
    revision, doc = document(central, site)
    assert revision == 1
    assert doc["links"] == [
        MPLS
        | {
            "cost": 0,
            "dhcp": False,
            "metered": False,
            "probe": {
                "protocol": "icmp",
                "targets": [],
                "interval_ms": 150,
                "fast_interval_ms": 20,
                "down_after": 4,
                "up_after": 5,
                "hold_s": 10,
                "loss_percent": 5,
                "latency_ms": 150,
                "jitter_ms": 30,
            },
        }
    ]
    assert doc["services"] == []
    added = client.post(f"/api/v1/sites/{site}/links", json=INET, headers=admin)
    assert added.status_code == 201, added.text
    assert added.json()["reported"] is None
    patched = client.patch(f"/api/v1/sites/{site}/links/inet", json={"cost": 5}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json()["desired"]["cost"] == 5
    revision, doc = document(central, site)
    assert revision == 3
    assert [link["name"] for link in doc["links"]] == ["mpls", "inet"]
    listed = client.get(f"/api/v1/sites/{site}/links", headers=acme.headers)
    assert [link["name"] for link in listed.json()] == ["mpls", "inet"]
    assert client.delete(f"/api/v1/sites/{site}/links/mpls", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/sites/{site}/links/inet", headers=admin).status_code == 204
    revision, doc = document(central, site)
    assert revision == 5
    assert "links" not in doc
    assert client.get(f"/api/v1/sites/{site}/links/inet", headers=admin).status_code == 404


def test_a_bad_field_is_a_422_naming_it_as_the_contract_does(central: Central) -> None:
    acme = central.tenant("acme")
    site = new_site(central, acme, "branch")
    client = central.client
    bad = MPLS | {"gateway": "10.9.9.9", "kind": "satellite", "probe": {"interval_ms": 5}}
    refused = client.post(f"/api/v1/sites/{site}/links", json=bad, headers=central.admin.headers)
    assert refused.status_code == 422, refused.text
    fields = {p["where"] for p in refused.json()["problems"]}
    assert fields == {"kind", "probe.interval_ms"}  # the gateway is checked once both are fine
    both = client.post(
        f"/api/v1/sites/{site}/links", json=MPLS | {"dhcp": True}, headers=central.admin.headers
    )
    assert both.status_code == 422
    assert "dhcp" in both.text
    missing = client.patch(
        f"/api/v1/sites/{site}/links/nope", json={}, headers=central.admin.headers
    )
    assert missing.status_code == 404
    assert document(central, site)[0] == 0  # nothing was written


def test_duplicates_and_renames_are_refused(central: Central) -> None:
    acme = central.tenant("acme")
    site = new_site(central, acme, "branch", MPLS)
    client, admin = central.client, central.admin.headers
    again = client.post(f"/api/v1/sites/{site}/links", json=MPLS, headers=admin)
    assert again.status_code == 409
    assert "mpls" in again.text
    same_interface = client.post(
        f"/api/v1/sites/{site}/links", json=LTE | {"interface": "wan0"}, headers=admin
    )
    assert same_interface.status_code == 409
    assert "wan0" in same_interface.text
    renamed = client.patch(f"/api/v1/sites/{site}/links/mpls", json={"name": "x"}, headers=admin)
    assert renamed.status_code == 422
    assert "name" in renamed.text


def test_tenants_read_their_sites_links_and_never_change_them(central: Central) -> None:
    acme = central.tenant("acme")
    globex = central.tenant("globex")
    site = new_site(central, acme, "branch", MPLS)
    client = central.client
    assert client.get(f"/api/v1/sites/{site}/links", headers=acme.headers).status_code == 200
    assert client.get(f"/api/v1/sites/{site}/links", headers=globex.headers).status_code == 404
    assert client.get(f"/api/v1/sites/{site}/links/mpls", headers=globex.headers).status_code == 404
    refused = client.post(f"/api/v1/sites/{site}/links", json=LTE, headers=acme.headers)
    assert refused.status_code == 403
    assert (
        client.delete(f"/api/v1/sites/{site}/links/mpls", headers=acme.headers).status_code == 403
    )


def test_a_raw_desired_state_write_keeps_the_sites_links(central: Central) -> None:
    acme = central.tenant("acme")
    site = new_site(central, acme, "branch", MPLS)
    bare = new_site(central, acme, "bare")
    client, admin = central.client, central.admin.headers
    written = client.post(
        "/api/v1/desired-state",
        json={"siteIds": [site, bare], "document": {"services": []}},
        headers=admin,
    )
    assert written.status_code == 200, written.text
    assert [link["name"] for link in document(central, site)[1]["links"]] == ["mpls"]
    assert "links" not in document(central, bare)[1]
    lte = {**LTE, "cost": 0, "dhcp": False, "probe": {}}
    replaced = client.put(
        f"/api/v1/sites/{site}/desired-state", json={"services": [], "links": [lte]}, headers=admin
    )
    assert replaced.status_code == 200, replaced.text
    assert [link["name"] for link in document(central, site)[1]["links"]] == ["lte"]
