"""Key rotation, decided pure: which overlay device rotates its key next, if any.

Make-before-break across a peer's per-link devices: a device rotates only while another device
to the same peer has a fresh handshake (the traffic rides that one meanwhile), one device per
peer at a time, the oldest key first, once it is older than the period. The steps of one
rotation and the protocol with the central are in docs/overlay.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

HANDSHAKE_FRESH_S = 180.0  # WireGuard re-handshakes every 120 s while a session is in use


@dataclass(frozen=True)
class KeyView:
    """What the schedule reads of one device: its peer site, when its key was made, the
    latest handshake with that peer (None: never), whether it is rotating now."""

    device: str
    peer: str
    key_made_at: float
    last_handshake: float | None
    rotating: bool = False


@dataclass(frozen=True)
class RotationChoice:
    """The device to rotate now and the device its traffic rides meanwhile."""

    device: str
    carrier: str


def fresh(view: KeyView, now: float) -> bool:
    return view.last_handshake is not None and now - view.last_handshake < HANDSHAKE_FRESH_S


def next_rotation(views: Sequence[KeyView], now: float, period_s: float) -> RotationChoice | None:
    """The oldest key past `period_s` whose peer has another fresh device and no rotation
    under way; None when no device may rotate now."""
    busy = {view.peer for view in views if view.rotating}
    for view in sorted(views, key=lambda v: (v.key_made_at, v.device)):
        if now - view.key_made_at < period_s or view.peer in busy:
            continue
        carriers = [
            other.device
            for other in views
            if other.peer == view.peer and other.device != view.device and fresh(other, now)
        ]
        if carriers:
            return RotationChoice(view.device, min(carriers))
    return None
