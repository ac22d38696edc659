"""Helpers of the SD-WAN API tests: a site with links, its document."""

from __future__ import annotations

from typing import Any

from tests.central.api.conftest import Caller, Central

MPLS = {
    "name": "mpls",
    "kind": "mpls",
    "interface": "wan0",
    "address": "192.0.2.2/30",
    "gateway": "192.0.2.1",
}
INET = {"name": "inet", "kind": "internet", "interface": "wan1", "dhcp": True}
LTE = {
    "name": "lte",
    "kind": "lte",
    "interface": "wwan0",
    "address": "198.51.100.2/24",
    "gateway": "198.51.100.1",
    "metered": True,
}


def new_site(central: Central, owner: Caller, name: str, *links: dict[str, Any]) -> str:
    """A site of `owner`'s with `links` (added by the operator)."""
    created = central.client.post(
        "/api/v1/sites", json={"name": name, "kind": "on-premise"}, headers=owner.headers
    )
    assert created.status_code == 201, created.text
    site: str = created.json()["id"]
    for link in links:
        added = central.client.post(
            f"/api/v1/sites/{site}/links", json=link, headers=central.admin.headers
        )
        assert added.status_code == 201, added.text
    return site


def document(central: Central, site: str) -> tuple[int, dict[str, Any]]:
    found = central.client.get(
        f"/api/v1/sites/{site}/desired-state", headers=central.admin.headers
    ).json()
    return found["revision"], found["document"]
