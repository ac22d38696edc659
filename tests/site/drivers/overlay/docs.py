"""Overlay sections as the central writes them, for the overlay tests (fast and real)."""

from __future__ import annotations

from typing import Any

from edgewise.site.drivers.linux.wireguard.keys import new_private_key, public_key_of


def a_public_key() -> str:
    return public_key_of(new_private_key())


def peer(
    site: str, key: str, address: str, prefixes: list[str], endpoints: list[tuple[str, str, int]]
) -> dict[str, Any]:
    """A peer with an endpoint per (local link, its address, its port)."""
    return {
        "site": site,
        "public_key": key,
        "address": address,
        "prefixes": prefixes,
        "endpoints": [{"via": v, "address": a, "port": p} for v, a, p in endpoints],
    }


def overlay(
    tenant: str,
    address: str,
    links: list[tuple[str, int]],
    peers: list[dict[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "topology": "full-mesh",
        "role": "mesh",
        "address": address,
        "links": [{"link": name, "port": port} for name, port in links],
        "peers": peers,
        **extra,
    }
