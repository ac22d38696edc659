"""A tenant overlay's entries in its members' documents, pure: each member's role, inner
address, links and ports, and its peers from the topology (hub: every spoke; spoke: the hubs;
mesh: every other member), each with its key and an endpoint per pairing of links.
`orchestrator.sdwan` loads the inputs and writes the entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from edgewise.model.links import WanLink
from edgewise.model.overlay import Endpoint, Overlay, OverlayLink, OverlayPeer

WAITING_FOR_KEY = "waiting for its key"
NO_LINKS = "no WAN links to ride"


@dataclass(frozen=True)
class Member:
    """A member site as the central knows it: its inner address, the links it rides (in
    order), the addresses its links are reached at (given, or reported for DHCP), its key."""

    site_id: str
    address: IPv4Address
    links: tuple[WanLink, ...]
    reached_at: dict[str, IPv4Address] = field(default_factory=dict)
    public_key: str | None = None
    next_public_key: str | None = None

    @property
    def state(self) -> str:
        if not self.links:
            return NO_LINKS
        return WAITING_FOR_KEY if self.public_key is None else "ready"


@dataclass(frozen=True)
class Topology:
    tenant_id: str
    topology: str
    prefix: IPv4Network
    base_port: int
    key_rotation_h: int
    hubs: tuple[str, ...]
    members: tuple[Member, ...]

    def role(self, site_id: str) -> str:
        if self.topology == "full-mesh":
            return "mesh"
        return "hub" if site_id in self.hubs else "spoke"

    def port(self, member: Member, link: str) -> int:
        return self.base_port + [k.name for k in member.links].index(link)


def compose_overlays(topology: Topology) -> dict[str, Overlay]:
    """Each member's overlay entry, by site id; a member without links has none, and a member
    whose key is not known yet is in no peer's entry (its own entry still lists its peers)."""
    ready = [m for m in topology.members if m.state == "ready"]
    entries: dict[str, Overlay] = {}
    hubs_ready = [m for m in ready if m.site_id in topology.hubs]
    hubs_ready.sort(key=lambda m: topology.hubs.index(m.site_id))
    for member in topology.members:
        if not member.links:
            continue
        role = topology.role(member.site_id)
        if role == "spoke":
            others = hubs_ready
        elif role == "hub":
            others = [m for m in ready if topology.role(m.site_id) == "spoke"]
        else:
            others = [m for m in ready if m.site_id != member.site_id]
        peers = tuple(
            _peer(topology, member, other, via_hub=role == "spoke" and index == 0)
            for index, other in enumerate(others)
        )
        entries[member.site_id] = Overlay(
            tenant=topology.tenant_id,
            topology=topology.topology,
            role=role,
            address=IPv4Interface(f"{member.address}/{topology.prefix.prefixlen}"),
            links=tuple(
                OverlayLink(link.name, topology.port(member, link.name)) for link in member.links
            ),
            peers=peers,
            key_rotation_h=topology.key_rotation_h,
        )
    return entries


def _peer(topology: Topology, local: Member, peer: Member, *, via_hub: bool) -> OverlayPeer:
    """`peer` as `local` sees it. The LAN prefixes of a tenant's services are not known to the
    central (the site gives each its LAN), so a peer carries its inner /32; a spoke routes the
    whole inner prefix through its first hub (the other spokes are behind it)."""
    own = IPv4Network(f"{peer.address}/32")
    prefixes = (topology.prefix,) if via_hub else (own,)
    assert peer.public_key is not None
    return OverlayPeer(
        site=peer.site_id,
        public_key=peer.public_key,
        address=peer.address,
        prefixes=prefixes,
        endpoints=tuple(endpoints(topology, local, peer)),
        next_public_key=peer.next_public_key,
    )


def endpoints(topology: Topology, local: Member, peer: Member) -> list[Endpoint]:
    """One tunnel per local link: each takes a peer link of the same kind first (in order),
    then the peer's links left over in order, then any peer link again. Peer links whose
    address is not known (a DHCP link that has not reported one) are not used."""
    reachable = [link for link in peer.links if link.name in peer.reached_at]
    if not reachable:
        return []
    free = list(reachable)
    pairs: dict[str, WanLink] = {}
    for link in local.links:
        same = next((p for p in free if p.kind == link.kind), None)
        if same is not None:
            pairs[link.name] = same
            free.remove(same)
    for position, link in enumerate(local.links):
        if link.name not in pairs:
            pairs[link.name] = free.pop(0) if free else reachable[position % len(reachable)]
    return [
        Endpoint(
            link.name,
            peer.reached_at[pairs[link.name].name],
            topology.port(peer, pairs[link.name].name),
        )
        for link in local.links
    ]


def reached_at(links: Sequence[WanLink], reported: dict[str, str]) -> dict[str, IPv4Address]:
    """Where each link is reached: its given address, else the one the site reported."""
    found: dict[str, IPv4Address] = {}
    for link in links:
        if link.address is not None:
            found[link.name] = link.address.ip
        elif link.name in reported:
            try:
                found[link.name] = IPv4Interface(reported[link.name]).ip
            except ValueError:
                continue
    return found


def next_address(prefix: IPv4Network, taken: set[IPv4Address]) -> IPv4Address | None:
    """The first host address of `prefix` not taken (None: the prefix is full)."""
    for address in prefix.hosts():
        if address not in taken:
            return address
    return None
