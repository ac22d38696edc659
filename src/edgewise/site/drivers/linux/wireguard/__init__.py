"""WireGuard overlay devices at the site (issue 12 §4): keys made here, wireguard-go per device,
its UAPI socket spoken directly, the device's address and routes; docs/overlay.md."""

from edgewise.site.drivers.linux.wireguard.config import (
    Endpoint,
    OverlayDevice,
    OverlayPeer,
    problems,
)
from edgewise.site.drivers.linux.wireguard.engine import DeviceState, Ensured, OverlayEngine
from edgewise.site.drivers.linux.wireguard.uapi import PeerDump

__all__ = [
    "DeviceState",
    "Endpoint",
    "Ensured",
    "OverlayDevice",
    "OverlayEngine",
    "OverlayPeer",
    "PeerDump",
    "problems",
]
