"""A tenant overlay's entries in its members' documents, pure: each member's role, inner
address, links and ports, and its peers from the topology (hub: every spoke; spoke: the hubs;
mesh: every other member), each with its key and an endpoint per pairing of links; a member's
key rotation under way (`keyrotation.Rotation`) shows on its links and on its peers'
endpoints to them. `orchestrator.sdwan` loads the inputs and writes the entries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from edgewise.central.orchestrator.keyrotation import Rotation
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
    rotations: Mapping[str, Rotation] = field(default_factory=dict)  # by rotating site

    def rotation(self, member: Member) -> Rotation | None:
        """The member's rotation while under way (it stays, promoted or not, until the step
        function ends it: the peers may not all hold the next key yet)."""
        return self.rotations.get(member.site_id)

    def peers_of(self, member: Member) -> list[Member]:
        """The members whose entries name `member` as a peer (and the other way round)."""
        role = self.role(member.site_id)
        others = [m for m in self.members if m.site_id != member.site_id]
        if role == "mesh":
            return others
        wanted = "spoke" if role == "hub" else "hub"
        return [m for m in others if self.role(m.site_id) == wanted]

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
        rotation = topology.rotation(member)
        entries[member.site_id] = Overlay(
            tenant=topology.tenant_id,
            topology=topology.topology,
            role=role,
            address=IPv4Interface(f"{member.address}/{topology.prefix.prefixlen}"),
            links=tuple(
                OverlayLink(
                    link.name,
                    topology.port(member, link.name),
                    *_rotated(rotation, link.name),
                )
                for link in member.links
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
    rotation = topology.rotation(peer)
    return OverlayPeer(
        site=peer.site_id,
        public_key=peer.public_key,
        address=peer.address,
        prefixes=prefixes,
        endpoints=tuple(
            Endpoint(
                via,
                peer.reached_at[there.name],
                topology.port(peer, there.name),
                *_rotated(rotation, there.name),
            )
            for via, there in pairs(local, peer)
        ),
    )


def _rotated(rotation: Rotation | None, link: str) -> tuple[str | None, bool | None]:
    """(public_key, draining) of the rotating site's `link`, or of a tunnel to it."""
    if rotation is None:
        return None, None
    return (
        rotation.next_key if rotation.uses_next(link) else None,
        True if rotation.drains(link) else None,
    )


def endpoints(topology: Topology, local: Member, peer: Member) -> list[Endpoint]:
    """`local`'s tunnels to `peer`, as its entry has them outside a key rotation."""
    return [
        Endpoint(via, peer.reached_at[there.name], topology.port(peer, there.name))
        for via, there in pairs(local, peer)
    ]


def pairs(local: Member, peer: Member) -> list[tuple[str, WanLink]]:
    """One tunnel per local link, (local link, the peer's link it goes to): each takes a peer
    link of the same kind first (in order), then the peer's links left over in order, then any
    peer link again. Peer links whose address is not known (a DHCP link that has not reported
    one) are not used."""
    reachable = [link for link in peer.links if link.name in peer.reached_at]
    if not reachable:
        return []
    free = list(reachable)
    chosen: dict[str, WanLink] = {}
    for link in local.links:
        same = next((p for p in free if p.kind == link.kind), None)
        if same is not None:
            chosen[link.name] = same
            free.remove(same)
    for position, link in enumerate(local.links):
        if link.name not in chosen:
            chosen[link.name] = free.pop(0) if free else reachable[position % len(reachable)]
    return [(link.name, chosen[link.name]) for link in local.links]


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
