"""The seam the linux driver reaches the overlay through: `Overlay`, which `OverlayEngine`
(real: wireguard-go, netlink) and `FakeOverlay` (fake.py: in memory, for the driver's fast
tests) both are."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Protocol

from edgewise.site.drivers.linux.wireguard.config import OverlayDevice
from edgewise.site.drivers.linux.wireguard.outcomes import DeviceState, Ensured


class Overlay(Protocol):
    async def ensure(self, wanted: OverlayDevice) -> Ensured: ...

    async def observe(self, name: str, namespace: str) -> DeviceState | None: ...

    async def remove(self, name: str) -> bool: ...

    async def steer(
        self, namespace: str, device: str, prefixes: list[IPv4Network], table: int, metric: int = 0
    ) -> None: ...

    def devices(self) -> list[str]: ...
