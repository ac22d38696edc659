"""Whether each overlay peer's tunnel is up, from WireGuard's handshakes (pure): the status's
`overlay_peers` (docs/channel.md), which OverlaySide.observe fills from the devices it reads.

A peer is up while one of its tunnels (one per endpoint, on the device of the endpoint's link)
had a handshake within WireGuard's reject-after-time (180 s: past it, WireGuard itself drops
the session); down when none did, or none ever did once the grace after the site first tunnelled
to it has passed (WireGuard gives up a handshake attempt after 90 s); not judged (not reported)
within that grace.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Final

from edgewise.model.overlay import Overlay
from edgewise.site.drivers.linux.overlays import PlannedDevice
from edgewise.site.drivers.linux.wireguard.outcomes import DeviceState

REJECT_AFTER_S: Final = 180.0  # WireGuard's REJECT_AFTER_TIME: a session older is dropped
FIRST_HANDSHAKE_GRACE_S: Final = 90.0  # REKEY_ATTEMPT_TIME: how long a first attempt may take
PeerKey = tuple[str, str]  # (tenant, peer site)


def tunnels(
    overlays: Sequence[Overlay], planned: Sequence[PlannedDevice]
) -> dict[PeerKey, list[tuple[str, str]]]:
    """Each (tenant, peer site)'s tunnels built: (device name, the peer's public key there)."""
    found: dict[PeerKey, list[tuple[str, str]]] = {}
    by_tenant = {spec.tenant: spec for spec in overlays}
    for item in planned:
        spec = by_tenant.get(item.tenant)
        for peer in spec.peers if spec is not None else ():
            for end in peer.endpoints:
                if end.via == item.link:
                    ride = (item.device.name, peer.key_at(end))
                    found.setdefault((item.tenant, peer.site), []).append(ride)
    return found


def peer_states(
    overlays: Sequence[Overlay],
    planned: Sequence[PlannedDevice],
    devices: Mapping[str, DeviceState | None],
    first_seen: MutableMapping[PeerKey, float],
    now: float,
) -> dict[str, dict[str, str]]:
    """`{tenant: {peer site: "up" | "down"}}` for the peers tunnelled to; `devices` as observed
    (None: not running), `now` on the epoch clock (handshakes are). `first_seen` is the caller's
    memory of when each peer was first tunnelled to: updated here, and peers gone are forgotten."""
    built = tunnels(overlays, planned)
    for gone in set(first_seen) - set(built):
        del first_seen[gone]
    states: dict[str, dict[str, str]] = {}
    for key, rides in sorted(built.items()):
        since = first_seen.setdefault(key, now)
        latest = None
        for device, public_key in rides:
            state = devices.get(device)
            dump = state.peer(public_key) if state is not None else None
            if dump is not None and dump.last_handshake is not None:
                latest = max(latest or 0.0, dump.last_handshake)
        if latest is not None and now - latest < REJECT_AFTER_S:
            state_now = "up"
        elif latest is None and now - since < FIRST_HANDSHAKE_GRACE_S:
            continue  # not judged yet
        else:
            state_now = "down"
        states.setdefault(key[0], {})[key[1]] = state_now
    return states
