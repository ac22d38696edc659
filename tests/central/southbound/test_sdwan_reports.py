"""What sites report of their links and overlay keys, over the real channel: stored, shown, and
a new key reaches the overlay peers' documents; a bad field is refused naming it."""

from __future__ import annotations

import base64

import aiohttp
import pytest

from edgewise.central.orchestrator import documents, links, overlays
from edgewise.central.services.access import Principal, Role
from edgewise.central.store.tables import SiteRow
from tests.central.southbound.conftest import Channel
from tests.central.southbound.test_channel import item

pytestmark = pytest.mark.anyio
OPERATOR = Principal("op", "op", Role.ADMIN, None)
KEY = base64.b64encode(b"k" * 32).decode()


async def test_a_reported_key_and_link_reach_the_peers_document(channel: Channel) -> None:
    async with aiohttp.ClientSession() as http:
        hub_id, _ = await channel.enroll(http, "hub")
        spoke_id, spoke_tls = await channel.enroll(http, "spoke")
        with channel.runtime.sessions.begin() as session:
            tenant = session.get_one(SiteRow, hub_id).tenant_id
            link = {"name": "inet", "kind": "internet", "interface": "wan1", "dhcp": True}
            for site in (hub_id, spoke_id):
                links.add_link(session, OPERATOR, site, link)
            spec = overlays.OverlaySpec(
                tenant, "corp", "hub-and-spoke", "10.200.0.0/16", hubs=(hub_id,), sites=(spoke_id,)
            )
            overlays.create_overlay(session, OPERATOR, spec)
        status = {
            "revision": 1,
            "state": "converged",
            "overlay_keys": {tenant: {"public_key": KEY}},
            "links": [
                {
                    "name": "inet",
                    "state": "up",
                    "latency_ms": 12.5,
                    "loss_percent": 0,
                    "jitter_ms": 1.5,
                    "address": "100.64.1.2/10",
                    "since": "2026-12-07T10:00:00+00:00",
                    "classes": {"voice": {"packets": 10, "bytes": 1200}},
                }
            ],
        }
        event = {"event": "link-state", "link": "inet", "from": "down", "to": "up"}
        sent = await http.post(
            f"{channel.url}/reports",
            ssl=spoke_tls,
            json={"items": [item(body=status), item("event", event)]},
        )
        assert sent.status == 200, await sent.text()
        bad = dict(status, links=[{"name": "inet", "state": "up", "loss_percent": 101}])
        refused = await http.post(
            f"{channel.url}/reports", json={"items": [item(body=bad)]}, ssl=spoke_tls
        )
        assert refused.status == 400
        assert "items[0].body.links[0].loss_percent" in await refused.text()
    with channel.runtime.sessions() as session:
        (entry,) = documents.get_desired(session, hub_id).document["overlays"]
        found = links.list_links(session, OPERATOR, spoke_id)
    (peer,) = entry["peers"]
    assert (peer["site"], peer["public_key"]) == (spoke_id, KEY)
    assert peer["endpoints"] == [{"via": "inet", "address": "100.64.1.2", "port": 51820}]
    (reported,) = [link.reported for link in found.links]
    assert reported is not None
    assert (reported.state, reported.latency_ms, reported.address) == ("up", 12.5, "100.64.1.2/10")
    assert reported.classes == {"voice": {"packets": 10, "bytes": 1200}}
    assert [(c["link"], c["to"]) for c in found.changes] == [("inet", "up")]
