"""An overlay in memory (`seam.Overlay`), for tests of what calls it: it checks configurations
and reads key files as the engine does, and answers `ensure` and `observe` as the engine would
(no handshake ever: there is no peer). `kill(name)` stands in for a wireguard-go that died
(its routes go with its link)."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network

from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.wireguard.config import OverlayDevice, check
from edgewise.site.drivers.linux.wireguard.keys import public_key_of, read_private_key
from edgewise.site.drivers.linux.wireguard.outcomes import DeviceState, Ensured
from edgewise.site.drivers.linux.wireguard.uapi import PeerDump
from edgewise.site.drivers.linux.wireguard.underlay import Underlay


@dataclass
class FakeOverlay:
    running: dict[str, tuple[OverlayDevice, bytes, int]] = field(default_factory=dict)
    routes: dict[tuple[str, int, IPv4Network], tuple[str, int]] = field(default_factory=dict)
    underlays: dict[str, Underlay] = field(default_factory=dict)
    _pids: int = 1000

    async def ensure(self, wanted: OverlayDevice) -> Ensured:
        check(wanted)
        key = read_private_key(wanted.private_key_file)
        held = self.running.get(wanted.name)
        if held is None or held[0].namespace != wanted.namespace:
            self._pids += 1
            self.running[wanted.name] = (wanted, key, self._pids)
            return Ensured(wanted.name, started=True, reconfigured=True)
        before, key_before, pid = held
        reconfigured = _wireguard_part(before) != _wireguard_part(wanted) or key_before != key
        self.running[wanted.name] = (wanted, key, pid)
        return Ensured(wanted.name, started=False, reconfigured=reconfigured)

    async def observe(self, name: str, namespace: str) -> DeviceState | None:
        held = self.running.get(name)
        if held is None or held[0].namespace != namespace:
            return None
        device, key, pid = held
        peers = tuple(
            PeerDump(p.public_key, p.endpoint, p.allowed, p.keepalive, None, 0, 0)
            for p in device.peers
        )
        return DeviceState(name, pid, public_key_of(key), device.listen_port, device.fwmark, peers)

    async def remove(self, name: str) -> bool:
        held = self.running.pop(name, None)
        for where in [w for w, (device, _) in self.routes.items() if device == name]:
            del self.routes[where]
        return held is not None

    async def steer(
        self, namespace: str, device: str, prefixes: list[IPv4Network], table: int, metric: int = 0
    ) -> None:
        for prefix in prefixes:
            self.routes[(namespace, table, prefix)] = (device, metric)

    async def route_peers(
        self, namespace: str, table: int, routes: dict[str, list[IPv4Network]]
    ) -> None:
        for where in [w for w in self.routes if w[:2] == (namespace, table)]:
            del self.routes[where]
        for device, prefixes in routes.items():
            if device not in self.running:
                raise DataPlaneError(f"link {device} is missing in {namespace}", code="no-link")
            await self.steer(namespace, device, prefixes, table)

    async def underlay(self, namespace: str, wanted: Underlay | None) -> bool:
        before = self.underlays.get(namespace)
        if wanted is None:
            self.underlays.pop(namespace, None)
        else:
            self.underlays[namespace] = wanted
        return before != wanted

    def devices(self) -> list[str]:
        return sorted(self.running)

    def kill(self, name: str) -> None:
        """wireguard-go died: its TUN went, and the routes through it with it."""
        self.running.pop(name, None)
        for where in [w for w, (device, _) in self.routes.items() if device == name]:
            del self.routes[where]


def _wireguard_part(device: OverlayDevice) -> tuple[object, ...]:
    """What the engine sends over the socket (a change of it is `reconfigured`)."""
    peers = tuple(
        (p.public_key, p.endpoint, tuple(sorted(p.allowed)), p.keepalive) for p in device.peers
    )
    return (device.listen_port, device.fwmark, tuple(sorted(peers, key=lambda p: p[0])))
