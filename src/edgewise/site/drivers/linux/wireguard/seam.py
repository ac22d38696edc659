"""The seam the linux driver reaches the overlay through: `Overlay`, which `OverlayEngine`
(real: wireguard-go, netlink) and `FakeOverlay` (fake.py: in memory, for the driver's fast
tests) both are."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Protocol

from edgewise.site.drivers.linux.wireguard.config import OverlayDevice
from edgewise.site.drivers.linux.wireguard.outcomes import DeviceState, Ensured
from edgewise.site.drivers.linux.wireguard.underlay import Underlay


class Overlay(Protocol):
    async def ensure(self, wanted: OverlayDevice) -> Ensured: ...

    async def observe(self, name: str, namespace: str) -> DeviceState | None: ...

    async def remove(self, name: str) -> bool: ...

    async def steer(
        self, namespace: str, device: str, prefixes: list[IPv4Network], table: int, metric: int = 0
    ) -> None: ...

    async def route_peers(
        self, namespace: str, table: int, routes: dict[str, list[IPv4Network]]
    ) -> None: ...

    async def underlay(self, namespace: str, wanted: Underlay | None) -> bool: ...

    def devices(self) -> list[str]: ...
