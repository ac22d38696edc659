"""Overlays over the API: the central assigns addresses and ports, composes each member's peers
from the topology once it knows their keys (reported in status reports), and keeps each tenant's
overlay its own."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from edgewise.central.orchestrator import sdwan
from edgewise.central.services import site_channel
from edgewise.central.services.site_channel import ReportItem
from tests.central.api.conftest import Central
from tests.central.api.sdwan import INET, MPLS, document, new_site


def key(n: int) -> str:
    return base64.b64encode(bytes([n]) * 32).decode()


def report(central: Central, site: str, item: str, **body: Any) -> None:
    """A status report as the channel's intake records it (with the server's hook)."""
    status = ReportItem(item, "status", datetime.now(UTC), {"revision": 0, "state": "ok"} | body)
    with central.sessions.begin() as session:
        site_channel.record_batches(session, [(site, [status])], sdwan.recompose_overlay_peers)


def overlays_of(central: Central, site: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = document(central, site)[1].get("overlays", [])
    return found


def test_hub_and_spoke_members_get_their_peers_once_keys_are_known(central: Central) -> None:
    acme = central.tenant("acme")
    admin = central.admin.headers
    hub = new_site(central, acme, "hub", MPLS, INET)
    spoke = new_site(central, acme, "spoke-1", INET | {"dhcp": True})
    created = central.client.post(
        "/api/v1/overlays",
        json={
            "tenantId": acme.tenant_id,
            "name": "corp",
            "topology": "hub-and-spoke",
            "prefix": "10.200.0.0/16",
            "hubs": [hub],
            "sites": [spoke],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    overlay = created.json()
    assert [(m["siteName"], m["role"], m["address"], m["state"]) for m in overlay["members"]] == [
        ("hub", "hub", "10.200.0.1", "waiting for its key"),
        ("spoke-1", "spoke", "10.200.0.2", "waiting for its key"),
    ]
    (entry,) = overlays_of(central, hub)
    assert entry["links"] == [{"link": "mpls", "port": 51820}, {"link": "inet", "port": 51821}]
    assert entry["peers"] == []  # no key known yet
    report(
        central,
        spoke,
        "k1",
        overlay_keys={acme.tenant_id: {"public_key": key(2)}},
        links=[{"name": "inet", "state": "up", "address": "100.64.0.7/10"}],
    )
    (entry,) = overlays_of(central, hub)
    assert entry["peers"] == [
        {
            "site": spoke,
            "public_key": key(2),
            "address": "10.200.0.2",
            "prefixes": ["10.200.0.2/32"],
            "endpoints": [
                {"via": "mpls", "address": "100.64.0.7", "port": 51820},
                {"via": "inet", "address": "100.64.0.7", "port": 51820},
            ],
        }
    ]
    assert overlays_of(central, spoke)[0]["peers"] == []  # the hub has not reported its key
    report(central, hub, "k2", overlay_keys={acme.tenant_id: {"public_key": key(1)}})
    (peer,) = overlays_of(central, spoke)[0]["peers"]
    assert peer["prefixes"] == ["10.200.0.0/16"]  # every other member is behind the hub
    # the hub's inet link is DHCP and has reported no address: its mpls link it is
    assert peer["endpoints"] == [{"via": "inet", "address": "192.0.2.2", "port": 51820}]
    revision = document(central, hub)[0]
    # a rotation starts (tests/central/orchestrator/test_rotations.py walks it): the tunnels
    # to the spoke's one link are drained, the same report again changes nothing
    rotating = {acme.tenant_id: {"public_key": key(2), "next_public_key": key(9)}}
    report(central, spoke, "k3", overlay_keys=rotating)
    assert all(e["draining"] for e in overlays_of(central, hub)[0]["peers"][0]["endpoints"])
    report(central, spoke, "k4", overlay_keys=rotating)
    assert document(central, hub)[0] == revision + 1
    shown = central.client.get(f"/api/v1/overlays/{overlay['id']}", headers=acme.headers).json()
    assert [m["state"] for m in shown["members"]] == ["ready", "ready"]
    assert shown["members"][1]["publicKey"] == key(2)
    # a third site joins: the hub gets a peer once its key is known
    third = new_site(central, acme, "spoke-2", INET)
    spoke_revision = document(central, spoke)[0]
    joined = central.client.post(
        f"/api/v1/overlays/{overlay['id']}/members", json={"siteIds": [third]}, headers=admin
    )
    assert joined.status_code == 200, joined.text
    assert joined.json()["members"][2]["address"] == "10.200.0.3"
    report(central, third, "k5", overlay_keys={acme.tenant_id: {"public_key": key(3)}})
    assert len(overlays_of(central, hub)[0]["peers"]) == 2
    assert document(central, spoke)[0] == spoke_revision  # a spoke names only its hubs
    # removing a link the overlay rides by default is allowed; one named is refused
    left = central.client.delete(f"/api/v1/overlays/{overlay['id']}/members/{third}", headers=admin)
    assert left.status_code == 200
    assert len(overlays_of(central, hub)[0]["peers"]) == 1
    assert overlays_of(central, third) == []
    hub_leaves = central.client.delete(
        f"/api/v1/overlays/{overlay['id']}/members/{hub}", headers=admin
    )
    assert hub_leaves.status_code == 409
    assert (
        central.client.delete(f"/api/v1/overlays/{overlay['id']}", headers=admin).status_code == 204
    )
    assert overlays_of(central, hub) == []
    assert overlays_of(central, spoke) == []


def test_full_mesh_by_label_selector_and_links_in_use(central: Central) -> None:
    acme = central.tenant("acme")
    admin = central.admin.headers
    sites = [new_site(central, acme, f"s{n}", MPLS) for n in range(3)]
    for site in sites[:2]:
        central.client.patch(
            f"/api/v1/sites/{site}", json={"labels": {"mesh": "yes"}}, headers=acme.headers
        )
    created = central.client.post(
        "/api/v1/overlays",
        json={
            "tenantId": acme.tenant_id,
            "name": "mesh",
            "topology": "full-mesh",
            "prefix": "10.201.0.0/24",
            "selector": "mesh=yes",
            "basePort": 40000,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    overlay = created.json()
    assert {m["siteId"] for m in overlay["members"]} == set(sites[:2])
    for n, site in enumerate(sites[:2]):
        report(central, site, f"k{n}", overlay_keys={acme.tenant_id: {"public_key": key(n + 1)}})
    first = overlays_of(central, sites[0])[0]
    assert first["role"] == "mesh"
    assert [p["site"] for p in first["peers"]] == [sites[1]]
    assert first["peers"][0]["endpoints"] == [
        {"via": "mpls", "address": "192.0.2.2", "port": 40000}
    ]
    joined = central.client.post(
        f"/api/v1/overlays/{overlay['id']}/members",
        json={"siteIds": [sites[2]], "links": ["mpls"]},
        headers=admin,
    )
    assert joined.status_code == 200, joined.text
    in_use = central.client.delete(f"/api/v1/sites/{sites[2]}/links/mpls", headers=admin)
    assert in_use.status_code == 409
    assert "mesh" in in_use.text


def test_bad_overlays_are_refused_naming_the_field(central: Central) -> None:
    acme = central.tenant("acme")
    globex = central.tenant("globex")
    admin = central.admin.headers
    theirs = new_site(central, globex, "theirs", MPLS)
    bad = central.client.post(
        "/api/v1/overlays",
        json={
            "tenantId": acme.tenant_id,
            "name": "x",
            "topology": "hub-and-spoke",
            "prefix": "10.300.0.0/16",
            "sites": [theirs, "nope"],
        },
        headers=admin,
    )
    assert bad.status_code == 422, bad.text
    assert {p["where"] for p in bad.json()["problems"]} == {"prefix", "hubs"}
    foreign = central.client.post(
        "/api/v1/overlays",
        json={
            "tenantId": acme.tenant_id,
            "name": "x",
            "topology": "full-mesh",
            "prefix": "10.200.0.0/16",
            "sites": [theirs, "nope"],
        },
        headers=admin,
    )
    assert foreign.status_code == 422
    assert [p["where"] for p in foreign.json()["problems"]] == ["sites[0]", "sites[1]"]
    by_tenant = central.client.post(
        "/api/v1/overlays",
        json={
            "tenantId": acme.tenant_id,
            "name": "x",
            "topology": "full-mesh",
            "prefix": "10.200.0.0/16",
        },
        headers=acme.headers,
    )
    assert by_tenant.status_code == 403


def test_a_tenant_never_sees_another_tenants_overlay(central: Central) -> None:
    acme = central.tenant("acme")
    globex = central.tenant("globex")
    new_site(central, acme, "a", MPLS)
    made = central.client.post(
        "/api/v1/overlays",
        json={
            "tenantId": acme.tenant_id,
            "name": "corp",
            "topology": "full-mesh",
            "prefix": "10.200.0.0/16",
            "selector": "",
        },
        headers=central.admin.headers,
    )
    assert made.status_code == 201, made.text
    overlay = made.json()["id"]
    assert central.client.get("/api/v1/overlays", headers=globex.headers).json() == []
    assert [
        o["id"] for o in central.client.get("/api/v1/overlays", headers=acme.headers).json()
    ] == [overlay]
    assert (
        central.client.get(f"/api/v1/overlays/{overlay}", headers=globex.headers).status_code == 404
    )


def test_a_report_with_bad_sdwan_fields_is_refused_naming_them(central: Central) -> None:
    now = datetime.now(UTC)
    body = {
        "revision": 1,
        "state": "ok",
        "links": [
            {
                "name": "x",
                "state": "sideways",
                "latency_ms": -1,
                "classes": {"voice": {"packets": "many"}},
            }
        ],
        "overlay_keys": {"acme": {"public_key": "short"}},
    }
    item = {"id": "r1", "kind": "status", "at": now.isoformat(), "body": body}
    problems = site_channel.read_item(item, "items[0]", now)
    assert isinstance(problems, list)
    assert {p.where for p in problems} == {
        "items[0].body.links[0].state",
        "items[0].body.links[0].latency_ms",
        "items[0].body.links[0].classes.voice.packets",
        "items[0].body.overlay_keys.acme.public_key",
    }


def test_a_deleted_site_leaves_its_peers_documents(central: Central) -> None:
    acme = central.tenant("acme")
    sites = [new_site(central, acme, f"s{n}", MPLS) for n in range(3)]
    made = central.client.post(
        "/api/v1/overlays",
        json={
            "tenantId": acme.tenant_id,
            "name": "mesh",
            "topology": "hub-and-spoke",
            "prefix": "10.201.0.0/24",
            "hubs": [sites[0]],
            "sites": sites[1:],
        },
        headers=central.admin.headers,
    )
    assert made.status_code == 201, made.text
    for n, site in enumerate(sites):
        report(central, site, f"k{n}", overlay_keys={acme.tenant_id: {"public_key": key(n + 1)}})
    assert len(overlays_of(central, sites[0])[0]["peers"]) == 2
    assert (
        central.client.delete(f"/api/v1/sites/{sites[2]}", headers=acme.headers).status_code == 204
    )
    assert [p["site"] for p in overlays_of(central, sites[0])[0]["peers"]] == [sites[1]]
    assert (
        central.client.delete(f"/api/v1/sites/{sites[0]}", headers=acme.headers).status_code == 204
    )
    assert overlays_of(central, sites[1])[0]["peers"] == []  # its hub is gone
    shown = central.client.get(f"/api/v1/overlays/{made.json()['id']}", headers=acme.headers)
    assert shown.json()["hubs"] == []
