"""A site's WAN links, as its desired state carries them: where each leaves the site's WAN
namespace, how it is addressed and reached, what it costs, and how its health is probed.

The central writes them (`edgewise site link ...`), the site's linux driver builds a routing
table, source NAT and probes per link from them, and steering (steering.py) and overlays
(overlay.py) name links by `name`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from typing import Final

from edgewise.model.fields import Broken, Record, Section, prop
from edgewise.model.functions import BITRATE
from edgewise.model.kinds import PORT, Address, Boolean, Choice, Integer, Interface, ListOf, Text
from edgewise.model.names import NAME

MAX_LINKS: Final = 8
MAX_PROBE_TARGETS: Final = 4
MAX_PROBES_PER_SECOND: Final = 10  # per link, whatever the link's settings: the bound
LINK_KINDS: Final = ("mpls", "internet", "lte", "other")
IFNAME: Final = Text(15, r"[A-Za-z0-9_][A-Za-z0-9_.-]*", "a Linux interface name (at most 15)")


@dataclass(frozen=True)
class LinkProbe(Section):
    """How a link's health is measured (docs/link-health.md says why each default): echoes to
    `targets` (none: its gateway), pinned to the link, every `interval_ms` while healthy and
    every `fast_interval_ms` after a miss, never more than MAX_PROBES_PER_SECOND in any second;
    `down_after` misses in a row take it down; above `loss_percent`, `latency_ms` or
    `jitter_ms` it is degraded; it comes back after `up_after` answers in a row and `hold_s`
    seconds without a miss."""

    protocol: str = prop(Choice(("icmp", "udp")), default="icmp")
    targets: tuple[IPv4Address, ...] = prop(ListOf(Address(), MAX_PROBE_TARGETS), factory=tuple)
    port: int | None = prop(PORT)
    interval_ms: int = prop(Integer(1000 // MAX_PROBES_PER_SECOND, 60_000, "milliseconds"),
                            default=150)  # fmt: skip
    fast_interval_ms: int = prop(Integer(5, 10_000, "milliseconds"), default=20)
    down_after: int = prop(Integer(1, 100, "a count of probes"), default=4)
    up_after: int = prop(Integer(1, 100, "a count of probes"), default=5)
    hold_s: int = prop(Integer(0, 3600, "seconds"), default=10)
    loss_percent: int = prop(Integer(1, 99, "a percentage"), default=5)
    latency_ms: int = prop(Integer(1, 60_000, "milliseconds"), default=150)
    jitter_ms: int = prop(Integer(1, 60_000, "milliseconds"), default=30)

    def problems(self) -> Iterator[Broken]:
        if self.protocol == "udp" and self.port is None:
            yield Broken(("port",), "udp probes need the port of an echo responder", "missing")
        if self.protocol == "icmp" and self.port is not None:
            yield Broken(("port",), "icmp probes have no port")
        if self.fast_interval_ms > self.interval_ms:
            yield Broken(("fast_interval_ms",), "the fast interval is longer than interval_ms")


@dataclass(frozen=True)
class WanLink(Section):
    """One way out of the site: `interface` in the site's WAN namespace, its `address` (none:
    the one the host gave it) and its next hop (`gateway`, or learned by `dhcp`)."""

    name: str = prop(NAME, required=True)
    kind: str = prop(Choice(LINK_KINDS), required=True)
    interface: str = prop(IFNAME, required=True)
    address: IPv4Interface | None = prop(Interface())
    gateway: IPv4Address | None = prop(Address())
    dhcp: bool = prop(Boolean(), default=False)
    bandwidth_up: int | None = prop(BITRATE)
    bandwidth_down: int | None = prop(BITRATE)
    cost: int = prop(Integer(0, 1_000_000, "a relative cost per gigabyte"), default=0)
    metered: bool = prop(Boolean(), default=False)
    probe: LinkProbe = prop(Record(LinkProbe), factory=LinkProbe)

    def problems(self) -> Iterator[Broken]:
        if self.dhcp and (self.gateway is not None or self.address is not None):
            yield Broken(("dhcp",), "a link learns its address and gateway by DHCP, or is "
                         "given them, not both")  # fmt: skip
        if not self.dhcp and self.gateway is None:
            yield Broken(("gateway",), "a link needs its next hop (gateway) or dhcp: true",
                         "missing")  # fmt: skip
        if self.gateway is not None and not self.reaches(self.gateway):
            assert self.address is not None
            yield Broken(("gateway",), f"{self.gateway} is not another address of "
                         f"{self.address.network}, the link's subnet")  # fmt: skip

    def reaches(self, neighbour: IPv4Address) -> bool:
        """Whether `neighbour` is on the link's subnet (true when its address is not given)."""
        if self.address is None:
            return True
        return neighbour in self.address.network and neighbour != self.address.ip

    def probe_targets(self) -> tuple[IPv4Address, ...]:
        """Where probes go: the configured targets, else the gateway (once known)."""
        if self.probe.targets:
            return self.probe.targets
        return () if self.gateway is None else (self.gateway,)
