"""What an overlay device should be: the typed input of `OverlayEngine.ensure` (pure values).

One device is one WireGuard interface in one namespace, pinned to one WAN link by the fwmark
that selects that link's routing table; Edgewise makes one per (peer site, WAN link).
`check` says everything wrong with a configuration at once, each problem naming its field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

from edgewise.site.drivers.linux.wireguard.errors import OverlayConfigError
from edgewise.site.drivers.linux.wireguard.keys import decode_key

IFNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$")  # IFNAMSIZ 16, and a socket file name
DEFAULT_MTU = 1420  # 1500 - 80: the WireGuard header over IPv6 underlays too
MAIN_TABLE = 254


@dataclass(frozen=True)
class Endpoint:
    """Where a peer's WireGuard UDP socket is reached."""

    address: IPv4Address
    port: int

    def __str__(self) -> str:
        return f"{self.address}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        host, _, port = text.rpartition(":")
        return cls(IPv4Address(host), int(port))


@dataclass(frozen=True)
class OverlayPeer:
    """A remote WireGuard peer: its public key (base64, as `wg` prints it), where to reach it
    (None: wait for it to reach us), the inner prefixes it may send from and we route to it,
    and the persistent keepalive in seconds (0: none)."""

    public_key: str
    endpoint: Endpoint | None
    allowed: tuple[IPv4Network, ...]
    keepalive: int = 0


@dataclass(frozen=True)
class OverlayDevice:
    """One WireGuard interface.

    name: the interface, unique on the host (wireguard-go's socket is
    /var/run/wireguard/<name>.sock, shared by every namespace); namespace: where it lives;
    private_key_file: the site's key (keys.py; never leaves the site); listen_port: its UDP
    port; fwmark: the mark of its encrypted packets, which selects its WAN link's routing
    table (0: none); address: its inner address; table: where the routes to the peers'
    allowed prefixes go (None: no routes); metric: their metric.
    """

    name: str
    namespace: str
    private_key_file: Path
    listen_port: int
    fwmark: int
    address: IPv4Interface
    peers: tuple[OverlayPeer, ...] = ()
    mtu: int = DEFAULT_MTU
    table: int | None = MAIN_TABLE
    metric: int = 0

    def prefixes(self) -> list[IPv4Network]:
        """Every prefix routed into the device: the peers' allowed ones, in order."""
        return [prefix for peer in self.peers for prefix in peer.allowed]


def problems(device: OverlayDevice) -> list[str]:
    """Everything wrong with `device`, one line each naming the field; [] when it can be built."""
    found = []
    if not IFNAME.match(device.name):
        found.append(
            f"name {device.name!r}: 1 to 15 letters, digits, '_', '.', '-' (an interface name)"
        )
    if not device.namespace or "/" in device.namespace:
        found.append(f"namespace {device.namespace!r}: a name under /run/netns")
    if not 1 <= device.listen_port <= 65535:
        found.append(f"listen_port {device.listen_port}: 1 to 65535")
    if not 0 <= device.fwmark <= 0xFFFFFFFF:
        found.append(f"fwmark {device.fwmark}: 0 to 2^32-1")
    if not 1280 <= device.mtu <= 65535 - 80:
        found.append(f"mtu {device.mtu}: 1280 to 65455")
    if device.table is not None and not 1 <= device.table <= 0xFFFFFFFF:
        found.append(f"table {device.table}: 1 to 2^32-1")
    seen: dict[IPv4Network, int] = {}
    keys: set[str] = set()
    for number, peer in enumerate(device.peers):
        where = f"peers[{number}]"
        try:
            decode_key(peer.public_key)
        except OverlayConfigError as exc:
            found.append(f"{where}.public_key: {exc.message}")
        if peer.public_key in keys:
            found.append(f"{where}.public_key: the key of another peer of this device")
        keys.add(peer.public_key)
        if peer.endpoint is not None and not 1 <= peer.endpoint.port <= 65535:
            found.append(f"{where}.endpoint: port {peer.endpoint.port} is not 1 to 65535")
        if not 0 <= peer.keepalive <= 65535:
            found.append(f"{where}.keepalive {peer.keepalive}: 0 to 65535 seconds")
        for prefix in peer.allowed:
            if prefix in seen:  # WireGuard routes a prefix to one peer only
                found.append(f"{where}.allowed {prefix}: peers[{seen[prefix]}] has it already")
            seen[prefix] = number
    return found


def check(device: OverlayDevice) -> None:
    """Raises OverlayConfigError listing every problem of `device`."""
    found = problems(device)
    if found:
        raise OverlayConfigError(f"overlay device {device.name}: " + "; ".join(found))
