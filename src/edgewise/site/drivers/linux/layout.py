"""The site's plan for kernel objects (pure): names, address pool, slots, labels, chain routes.

Every object carries the site's prefix: VNF namespaces `<prefix>-<slot>-<vnf>`, the service's
LAN bridge `<prefix>b<slot>` in the LAN-side namespace, veth ends `<prefix><token>l|r` (a fresh
random token per link, so a rebuild never collides with a veth the kernel is still deleting).
A service holds a slot; the slot gives its LAN subnet (a /24 of `lan_pool`, gateway .1 on the
first VNF) and its transit block (a /28 of `transit_pool`: up to 8 /31 links along the chain).
What the kernel cannot name (service id, VNF name, link position) is written as JSON labels
in interface aliases, which is how a restarted driver reads the plan back from the kernel.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from edgewise.model.desired import MAX_CHAIN

TAG = "ew1"
LAN_HOP = "@lan"
WAN_HOP = "@wan"
GROUP_LAN = 225  # interface group of a VNF's LAN-facing leg: nftables matches iifgroup/oifgroup
GROUP_WAN = 226  # ... and of its WAN-facing leg (link names change, groups do not)
# Route protocols the chain owns, outside every number iproute2 and FRR name (FRR's zebra takes
# 186-198 for its own daemons: a chain route with 186 in an FRR VNF's namespace was "bgp" to it,
# ignored for next hops and its learnt routes deleted with the chain's). Routes an older
# controller left with 186/187 are replaced in place (same destination, table and metric).
PROTO_CHAIN = 240  # the routes the chain wiring owns
PROTO_STATIC = 241  # a router VNF's configured static routes
TRANSIT_BLOCK = 2 * MAX_CHAIN  # addresses per service: MAX_CHAIN /31 links
PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,5}$")
SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.=+-]{0,47}$")
MEMBER_SEP = "+"  # instance i >= 1 of an elastic VNF `fw` is the hop `fw+1` (no VNF name has +)


def member_name(vnf: str, instance: int) -> str:
    """The hop (and namespace) name of instance `instance` of VNF `vnf`; 0 is the VNF's own."""
    return vnf if instance == 0 else f"{vnf}{MEMBER_SEP}{instance}"


def split_member(hop: str) -> tuple[str, int]:
    """(VNF, instance) of a hop name: `fw+2` is instance 2 of `fw`, `fw` its instance 0."""
    base, sep, number = hop.rpartition(MEMBER_SEP)
    if sep and number.isdigit() and base:
        return base, int(number)
    return hop, 0


@dataclass(frozen=True)
class SiteNetwork:
    """Where a site's services live on this host, and the pools their addresses come from."""

    prefix: str
    lan_netns: str
    wan_netns: str
    lan_pool: IPv4Network = field(default_factory=lambda: IPv4Network("172.16.0.0/12"))
    transit_pool: IPv4Network = field(default_factory=lambda: IPv4Network("10.255.0.0/16"))
    lan_prefixlen: int = 24

    def __post_init__(self) -> None:
        if not PREFIX_RE.match(self.prefix):
            raise ValueError(f"prefix {self.prefix!r}: 1-6 characters, a-z then a-z or 0-9")
        if self.lan_prefixlen > 30 or self.lan_prefixlen < self.lan_pool.prefixlen:
            raise ValueError(f"lan_prefixlen {self.lan_prefixlen} does not fit {self.lan_pool}")
        if self.transit_pool.num_addresses < TRANSIT_BLOCK:
            raise ValueError(f"transit_pool {self.transit_pool} is smaller than a /28")
        if self.lan_pool.overlaps(self.transit_pool):
            raise ValueError(f"lan_pool {self.lan_pool} overlaps transit_pool {self.transit_pool}")

    @property
    def slots(self) -> int:
        lans: int = 2 ** (self.lan_prefixlen - self.lan_pool.prefixlen)
        return min(lans, self.transit_pool.num_addresses // TRANSIT_BLOCK, 0xFFFF)

    @property
    def namespace_prefix(self) -> str:
        return f"{self.prefix}-"

    def vnf_namespace(self, slot: int, vnf: str) -> str:
        safe = (
            vnf if SAFE_NAME_RE.match(vnf) else "x" + hashlib.sha256(vnf.encode()).hexdigest()[:16]
        )
        return f"{self.prefix}-{slot:04x}-{safe}"

    def slot_of_namespace(self, name: str) -> int | None:
        parts = name.split("-", 2)
        if len(parts) != 3 or parts[0] != self.prefix or len(parts[1]) != 4:
            return None
        try:
            return int(parts[1], 16)
        except ValueError:
            return None

    def bridge(self, slot: int) -> str:
        return f"{self.prefix}b{slot:04x}"

    def link_ends(self, token: str) -> tuple[str, str]:
        """Names of the left (LAN-side) and right (WAN-side) ends of the link with `token`."""
        return f"{self.prefix}{token}l", f"{self.prefix}{token}r"

    def lan_subnet(self, slot: int) -> IPv4Network:
        size = 2 ** (32 - self.lan_prefixlen)
        base = int(self.lan_pool.network_address) + slot * size
        return IPv4Network((base, self.lan_prefixlen))

    def lan_gateway(self, slot: int) -> IPv4Interface:
        subnet = self.lan_subnet(slot)
        return IPv4Interface((subnet.network_address + 1, subnet.prefixlen))

    def gateway_mac(self, slot: int) -> str:
        """A stable MAC for the LAN gateway, so LAN hosts keep their ARP entry across rebuilds."""
        digest = hashlib.sha256(f"{self.prefix}:{slot}".encode()).digest()
        return ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))

    def transit_link(self, slot: int, index: int) -> IPv4Network:
        """The /31 of link `index` (1..MAX_CHAIN): left end even, right end odd."""
        if not 1 <= index <= MAX_CHAIN:
            raise ValueError(f"link {index} is outside 1..{MAX_CHAIN}")
        base = int(self.transit_pool.network_address) + slot * TRANSIT_BLOCK + 2 * (index - 1)
        return IPv4Network((base, 31))

    def transit_block(self, slot: int) -> IPv4Network:
        base = int(self.transit_pool.network_address) + slot * TRANSIT_BLOCK
        return IPv4Network((base, 28))


def left_end(link: IPv4Network) -> IPv4Interface:
    return IPv4Interface((link.network_address, 31))


def right_end(link: IPv4Network) -> IPv4Interface:
    return IPv4Interface((link.network_address + 1, 31))


def pick_slot(service_id: str, used: set[int], slots: int) -> int:
    """A free slot, the same for the same service and used set: hash of the id, then probing."""
    if len(used) >= slots:
        raise ValueError(f"the site's address pools are full ({slots} services)")
    start = int.from_bytes(hashlib.sha256(service_id.encode()).digest()[:4], "big") % slots
    return next(s for s in ((start + i) % slots for i in range(slots)) if s not in used)


@dataclass(frozen=True)
class LinkLabel:
    """What one veth link is: link `index` of a service's chain, from hop `left` to `right`."""

    service_id: str
    index: int
    left: str
    right: str
    token: str = ""

    def encode(self) -> str:
        return json.dumps([TAG, "link", self.service_id, self.index, self.left, self.right])

    def same_place(self, other: LinkLabel) -> bool:
        return (self.service_id, self.index, self.left, self.right) == (
            other.service_id,
            other.index,
            other.left,
            other.right,
        )


@dataclass(frozen=True)
class VnfLabel:
    """What a VNF namespace is, written on its loopback's alias."""

    service_id: str
    vnf: str
    function: str

    def encode(self) -> str:
        return json.dumps([TAG, "vnf", self.service_id, self.vnf, self.function])


def decode_label(alias: str | None) -> LinkLabel | VnfLabel | str | None:
    """A link or VNF label, or the service id of a service's bridge; None for foreign aliases."""
    try:
        value = json.loads(alias or "")
    except ValueError:
        return None
    if not isinstance(value, list) or len(value) < 3 or value[0] != TAG:
        return None
    kind, *rest = value[1:]
    if kind == "service" and len(rest) == 1 and isinstance(rest[0], str):
        return rest[0]
    if kind == "vnf" and len(rest) == 3 and all(isinstance(v, str) for v in rest):
        return VnfLabel(rest[0], rest[1], rest[2])
    if kind == "link" and len(rest) == 4 and isinstance(rest[1], int):
        return LinkLabel(str(rest[0]), rest[1], str(rest[2]), str(rest[3]))
    return None


def service_label(service_id: str) -> str:
    return json.dumps([TAG, "service", service_id])


def chain_links(service_id: str, chain: Sequence[str]) -> list[LinkLabel]:
    """The links a chain needs: LAN side -> first VNF -> ... -> last VNF -> WAN side."""
    hops = [LAN_HOP, *chain, WAN_HOP]
    return [LinkLabel(service_id, k, hops[k], hops[k + 1]) for k in range(len(hops) - 1)]


@dataclass(frozen=True)
class Route:
    destination: IPv4Network
    gateway: IPv4Address


def chain_routes(
    site: SiteNetwork, slot: int, chain: Sequence[str], nats: Mapping[int, IPv4Address | None]
) -> dict[str, list[Route]]:
    """The routes each hop of a chain needs, by VNF name and WAN_HOP.

    `nats` maps the chain position (1-based) of each NAT to its fixed source address (None for
    masquerade). VNF j sends by default to its right neighbour, and sends back to its left
    neighbour what lies left of it: the LAN subnet, the transit links beyond that neighbour and
    the fixed addresses of NATs on its left. The WAN side routes to a service only what it may
    reach: the NATs' addresses, or the whole LAN when the chain has no NAT.
    """
    routes: dict[str, list[Route]] = {}
    n = len(chain)
    for j, vnf in enumerate(chain, start=1):
        hop = [Route(IPv4Network("0.0.0.0/0"), right_end(site.transit_link(slot, j)).ip)]
        if j > 1:
            back = left_end(site.transit_link(slot, j - 1)).ip
            left = [site.lan_subnet(slot), *(site.transit_link(slot, i) for i in range(1, j - 1))]
            left += [IPv4Network(a) for p, a in sorted(nats.items()) if p < j and a is not None]
            hop += [Route(d, back) for d in left]
        routes[vnf] = hop
    if n:
        back = left_end(site.transit_link(slot, n)).ip
        last_nat = max(nats, default=0)
        wan: list[IPv4Network] = [] if last_nat else [site.lan_subnet(slot)]
        wan += [site.transit_link(slot, i) for i in range(max(last_nat, 1), n)]
        wan += [IPv4Network(a) for _, a in sorted(nats.items()) if a is not None]
        routes[WAN_HOP] = [Route(d, back) for d in wan]
    return routes
