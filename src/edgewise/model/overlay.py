"""A site's encrypted overlays, as its desired state carries them: per tenant, this site's
inner address, the WAN links the overlay rides (a WireGuard device per link, each on its own
port) and the peers the central computed from the tenant's topology, each with its public key
and an endpoint per tunnel.

Keys are made at the site: the private key never leaves it; the site reports its public key
and the central puts it into its peers' documents. A tunnel is one (peer endpoint, local link)
pair, so an overlay fails over between links while its inner addresses stay.

A key rotation moves a site's links to its next key one at a time (docs/overlay.md, "Key
rotation"): a link's `public_key` says which key its device uses, `draining` keeps the traffic
off it; a peer's endpoint says the same of the tunnel from the other end.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Final

from edgewise.model.fields import Broken, Record, Section, prop, unique
from edgewise.model.kinds import (
    PORT,
    Address,
    Boolean,
    Choice,
    Integer,
    Interface,
    ListOf,
    Prefix,
    refuse,
)
from edgewise.model.links import MAX_LINKS
from edgewise.model.names import IDENT, NAME
from edgewise.model.problems import Invalid, Json, Path, Problems

MAX_OVERLAYS: Final = 64  # tenants with an overlay at one site
MAX_PEERS: Final = 4096  # a hub's spokes
MAX_PEER_PREFIXES: Final = 64
TOPOLOGIES: Final = ("hub-and-spoke", "full-mesh")
ROLES: Final = ("hub", "spoke", "mesh")


@dataclass(frozen=True)
class PublicKey:
    """A WireGuard public key: 32 bytes in standard base64 (44 characters), as `wg` shows it."""

    def read(self, value: object, path: Path, out: Problems) -> str | Invalid:
        if isinstance(value, str) and len(value) == 44:
            try:
                if len(base64.b64decode(value, validate=True)) == 32:
                    return value
            except binascii.Error:
                pass
        return refuse(value, path, out, self)

    def write(self, value: str) -> Json:
        return value

    def describe(self) -> str:
        return "a WireGuard public key (32 bytes in base64, 44 characters)"


@dataclass(frozen=True)
class OverlayLink(Section):
    """A WAN link of this site the overlay rides, and the UDP port its device listens on."""

    link: str = prop(NAME, required=True)
    port: int = prop(PORT, required=True)
    public_key: str | None = prop(PublicKey())  # the key its device uses (None: the current)
    draining: bool | None = prop(Boolean())  # true: no peer is routed over this link's device


@dataclass(frozen=True)
class Endpoint(Section):
    """One tunnel to a peer: from this site's link `via` to the peer's `address`:`port`."""

    via: str = prop(NAME, required=True)
    address: IPv4Address = prop(Address(), required=True)
    port: int = prop(PORT, required=True)
    public_key: str | None = prop(PublicKey())  # the peer's device's key there, when not its own
    draining: bool | None = prop(Boolean())  # true: the peer's prefixes are not routed over it


@dataclass(frozen=True)
class OverlayPeer(Section):
    """Another site of the tenant this site has tunnels to; traffic to its inner `address` and
    its `prefixes` (its LANs, or, at a spoke, everything behind the hub) goes to it."""

    site: str = prop(IDENT, required=True)
    public_key: str = prop(PublicKey(), required=True)
    address: IPv4Address = prop(Address(), required=True)
    prefixes: tuple[IPv4Network, ...] = prop(ListOf(Prefix(), MAX_PEER_PREFIXES), factory=tuple)
    endpoints: tuple[Endpoint, ...] = prop(ListOf(Record(Endpoint), MAX_LINKS), factory=tuple)

    def key_at(self, endpoint: Endpoint) -> str:
        """The public key of the peer's device behind `endpoint`."""
        return endpoint.public_key or self.public_key

    def problems(self) -> Iterator[Broken]:
        yield from unique(self.endpoints, lambda e: e.via, "endpoints")


@dataclass(frozen=True)
class Overlay(Section):
    """A tenant's overlay at this site: its inner `address` (with the overlay's prefix
    length), its `role` in the tenant's `topology`, its links and its peers."""

    tenant: str = prop(IDENT, required=True)
    topology: str = prop(Choice(TOPOLOGIES), required=True)
    role: str = prop(Choice(ROLES), required=True)
    address: IPv4Interface = prop(Interface(), required=True)
    links: tuple[OverlayLink, ...] = prop(ListOf(Record(OverlayLink), MAX_LINKS), required=True)
    peers: tuple[OverlayPeer, ...] = prop(ListOf(Record(OverlayPeer), MAX_PEERS), factory=tuple)
    key_rotation_h: int = prop(Integer(0, 8760, "hours (0: never)"), default=168)

    def problems(self) -> Iterator[Broken]:
        if not self.links:
            yield Broken(("links",), "an overlay rides at least one link", "missing")
        yield from unique(self.links, lambda link: link.link, "links")
        yield from unique(self.links, lambda link: str(link.port), "links")
        yield from unique(self.peers, lambda p: p.site, "peers")
        yield from unique(self.peers, lambda p: p.public_key, "peers")
        yield from unique(self.peers, lambda p: str(p.address), "peers")
        expected = {"hub-and-spoke": ("hub", "spoke"), "full-mesh": ("mesh",)}[self.topology]
        if self.role not in expected:
            yield Broken(("role",), f"a site of a {self.topology} overlay is "
                         + " or ".join(expected))  # fmt: skip
        own = {link.link for link in self.links}
        for index, peer in enumerate(self.peers):
            if peer.address not in self.address.network or peer.address == self.address.ip:
                yield Broken(("peers", index, "address"), f"{peer.address} is not another "
                             f"address of the overlay's {self.address.network}")  # fmt: skip
            for position, endpoint in enumerate(peer.endpoints):
                if endpoint.via not in own:
                    yield Broken(("peers", index, "endpoints", position, "via"),
                                 f"{endpoint.via!r} is not one of the overlay's links")  # fmt: skip

    def link_names(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        for position, link in enumerate(self.links):
            yield ("links", position, "link"), link.link
