"""WireGuard overlay devices at the site (issue 12 §4): keys made here, wireguard-go per device,
its UAPI socket spoken directly, the device's address and routes; docs/overlay.md."""

from edgewise.site.drivers.linux.wireguard.config import (
    Endpoint,
    OverlayDevice,
    OverlayPeer,
    problems,
)
from edgewise.site.drivers.linux.wireguard.engine import OverlayEngine
from edgewise.site.drivers.linux.wireguard.outcomes import DeviceState, Ensured
from edgewise.site.drivers.linux.wireguard.seam import Overlay
from edgewise.site.drivers.linux.wireguard.uapi import PeerDump

__all__ = [
    "DeviceState",
    "Endpoint",
    "Ensured",
    "Overlay",
    "OverlayDevice",
    "OverlayEngine",
    "OverlayPeer",
    "PeerDump",
    "problems",
]
