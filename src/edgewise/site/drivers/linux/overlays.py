"""The site's overlays planned (pure): the desired state's `overlays` section and the WAN links'
slots give the WireGuard devices (`OverlayDevice`s) and which device each peer's prefixes take.

One device per (tenant, local link), its name stable and unique on the host (wireguard-go's
socket path is shared by every namespace); its encrypted packets carry OVERLAY_MARK plus the
link's mark, so they leave by that link's table and skip the overlay's own routing rule; every
device of a tenant has the tenant's inner address, and the key its link's `public_key` names
(the current one, or during a rotation the next). Routes go in OVERLAY_TABLE, looked up before
the links' tables by every packet without OVERLAY_MARK (docs/overlay.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network
from pathlib import Path
from typing import Final

from edgewise.model.overlay import Overlay
from edgewise.model.overlay import OverlayPeer as PeerSpec
from edgewise.site.drivers.linux.wanmarks import link_mark
from edgewise.site.drivers.linux.wireguard import Endpoint, OverlayDevice, OverlayPeer

OVERLAY_MARK: Final = 0x10000000  # on WireGuard's own UDP: no bit the steering table sets
OVERLAY_TABLE: Final = 0xE7F0  # 59376: the peers' prefixes, by the device that carries them
RULE_PRIORITY: Final = 9_000  # before the links' rules (10_001..): the overlay's routes first
KEEPALIVE_S: Final = 25  # every tunnel keeps a session, so a move needs no handshake first


def device_name(site_prefix: str, tenant: str, link: str) -> str:
    """`ewo` and 12 hex digits of (site, tenant, link): stable, 15 characters."""
    digest = hashlib.sha256(f"{site_prefix}/{tenant}/{link}".encode()).hexdigest()
    return f"ewo{digest[:12]}"


@dataclass(frozen=True)
class PlannedDevice:
    """A device and what it stands for: its tenant and local link."""

    tenant: str
    link: str
    device: OverlayDevice


def peer_prefixes(peer: PeerSpec) -> tuple[IPv4Network, ...]:
    """What a peer may send from and is routed to: its inner address and its prefixes."""
    own = IPv4Network(peer.address)
    return (own, *(p for p in peer.prefixes if p != own))


def plan_devices(
    overlays: Sequence[Overlay],
    slots: Mapping[str, int],
    *,
    site_prefix: str,
    namespace: str,
    key_file: Callable[[str, str | None], Path],
) -> list[PlannedDevice]:
    """The devices of `overlays` over the links that have a slot (built); in document order.
    `key_file(tenant, public_key)`: the file of the tenant's key that the link's device uses
    (the current one for None, or for a key the site does not hold: `key_problems` says so).
    A peer's entry on a device carries the key of the peer's device behind that endpoint."""
    found = []
    for overlay in overlays:
        for ride in overlay.links:
            slot = slots.get(ride.link)
            if slot is None:
                continue
            peers = tuple(
                OverlayPeer(
                    peer.key_at(end),
                    Endpoint(end.address, end.port),
                    peer_prefixes(peer),
                    KEEPALIVE_S,
                )
                for peer in overlay.peers
                for end in peer.endpoints
                if end.via == ride.link
            )
            device = OverlayDevice(
                name=device_name(site_prefix, overlay.tenant, ride.link),
                namespace=namespace,
                private_key_file=key_file(overlay.tenant, ride.public_key),
                listen_port=ride.port,
                fwmark=OVERLAY_MARK | link_mark(slot),
                address=overlay.address,
                peers=peers,
                table=None,  # routed by `choose_routes`, one device per peer at a time
            )
            found.append(PlannedDevice(overlay.tenant, ride.link, device))
    return found


def unbuilt_links(overlays: Sequence[Overlay], slots: Mapping[str, int]) -> list[str]:
    """One note per overlay link that is not a built WAN link (no device rides it)."""
    return [
        f"overlay {o.tenant}: link {ride.link} is not a built WAN link"
        for o in overlays
        for ride in o.links
        if ride.link not in slots
    ]


def key_problems(overlays: Sequence[Overlay], held: Callable[[str, str], bool]) -> list[str]:
    """One note per link whose `public_key` is no key the site holds for the tenant (its device
    keeps the current key): `held(tenant, public_key)`."""
    return [
        f"overlay {o.tenant}: link {ride.link} is to use key {ride.public_key}, which this "
        "site does not hold (neither its key nor its next); the device keeps its current key"
        for o in overlays
        for ride in o.links
        if ride.public_key is not None and not held(o.tenant, ride.public_key)
    ]


def choose_routes(
    overlays: Sequence[Overlay], built: Collection[str], usable: Collection[str], site_prefix: str
) -> dict[str, list[IPv4Network]]:
    """The prefixes each device carries: a peer's go to the device of the first of its
    endpoints whose link is usable now and that neither end drains (a key rotation moves the
    traffic off a tunnel before its key changes), else of the first usable one, else of the
    first built one (its link's table ends in `unreachable`: nothing leaks out of another
    link); none when no endpoint's link is built."""
    routes: dict[str, list[IPv4Network]] = {}
    for overlay in overlays:
        drained = {ride.link for ride in overlay.links if ride.draining}
        for peer in overlay.peers:
            ends = [end for end in peer.endpoints if end.via in built]
            live = [end.via for end in ends if end.via in usable]
            calm = [v for v in live if v not in drained and not _draining(peer, v)]
            pick = next(iter(calm + live + [end.via for end in ends]), None)
            if pick is not None:
                name = device_name(site_prefix, overlay.tenant, pick)
                routes.setdefault(name, []).extend(peer_prefixes(peer))
    return routes


def _draining(peer: PeerSpec, via: str) -> bool:
    return any(end.draining for end in peer.endpoints if end.via == via)
