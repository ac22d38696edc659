"""What the overlay engine answers (pure values): what `ensure` did, what `observe` saw."""

from __future__ import annotations

from dataclasses import dataclass

from edgewise.site.drivers.linux.wireguard.uapi import PeerDump


@dataclass(frozen=True)
class Ensured:
    """What `ensure` did: started the process, changed the WireGuard configuration."""

    name: str
    started: bool
    reconfigured: bool

    @property
    def changed(self) -> bool:
        return self.started or self.reconfigured


@dataclass(frozen=True)
class DeviceState:
    """A device as observed: its process, its own public key and port, its peers (latest
    handshake, rx/tx bytes, endpoint each)."""

    name: str
    pid: int
    public_key: str | None
    listen_port: int
    fwmark: int
    peers: tuple[PeerDump, ...]

    def peer(self, public_key: str) -> PeerDump | None:
        return next((p for p in self.peers if p.public_key == public_key), None)
