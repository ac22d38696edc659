"""Application-aware steering, as a site's desired state carries it: application classes (by
layer 3/4 fields and by the applications deep packet inspection names), SLA profiles, and
policies that give each class its ordered links.

The central composes the effective policies of a site (the operator's, and a tenant's own
preferences within the operator's bounds); the site's linux driver turns them into one
nftables ruleset and one batch of routing rules, and its link health decides which link of a
policy's list each class is on now.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Final

from edgewise.model.applications import CATALOGUE
from edgewise.model.fields import Broken, Record, Section, prop, unique
from edgewise.model.functions import MAX_MATCHES, PORT_PROTOCOLS, PROTOCOLS
from edgewise.model.kinds import PORT, Boolean, Integer, ListOf, PortRange, Prefix, Text
from edgewise.model.links import MAX_LINKS
from edgewise.model.names import IDENT, NAME

MAX_APP_CLASSES: Final = 64
MAX_SLA_PROFILES: Final = 64
MAX_POLICIES: Final = 256
MAX_APPLICATIONS: Final = 32  # catalogue names, or host patterns, of one class
HOST_PATTERN: Final = Text(
    253,
    r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62}\.)*[A-Za-z0-9-]{1,63}",
    "a host name, or *. and a domain (e.g. *.example.com)",
)
MILLISECONDS: Final = Integer(1, 60_000, "milliseconds")
KNOWN_APPLICATIONS: Final = frozenset(a.name for a in CATALOGUE)


@dataclass(frozen=True)
class SlaProfile(Section):
    """What a class needs of a link: each limit given is one the link's measured figures (over
    its probe window) must keep for the class to stay on it."""

    name: str = prop(NAME, required=True)
    max_latency_ms: int | None = prop(MILLISECONDS)
    max_loss_percent: int | None = prop(Integer(0, 100, "a percentage"))
    max_jitter_ms: int | None = prop(MILLISECONDS)

    def problems(self) -> Iterator[Broken]:
        if (self.max_latency_ms, self.max_loss_percent, self.max_jitter_ms) == (None,) * 3:
            yield Broken((), "an SLA profile limits at least one of max_latency_ms, "
                         "max_loss_percent, max_jitter_ms", "missing")  # fmt: skip


@dataclass(frozen=True)
class AppClass(Section):
    """Traffic of an application class: a flow that matches every layer 3/4 field given (a
    destination port of `ports` or within one of `port_ranges`), and,
    when `applications` or `hosts` are given, that deep packet inspection identifies as one of
    the catalogue's `applications` or whose TLS SNI / HTTP host matches one of `hosts`."""

    name: str = prop(NAME, required=True)
    protocol: str = prop(PROTOCOLS, default="any")
    ports: tuple[int, ...] = prop(ListOf(PORT, MAX_MATCHES), factory=tuple)
    port_ranges: tuple[tuple[int, int], ...] = prop(ListOf(PortRange(), MAX_MATCHES), factory=tuple)
    prefixes: tuple[IPv4Network, ...] = prop(ListOf(Prefix(), MAX_MATCHES), factory=tuple)
    dscp: int | None = prop(Integer(0, 63, "a DSCP value"))
    applications: tuple[str, ...] = prop(ListOf(NAME, MAX_APPLICATIONS), factory=tuple)
    hosts: tuple[str, ...] = prop(ListOf(HOST_PATTERN, MAX_APPLICATIONS), factory=tuple)

    def problems(self) -> Iterator[Broken]:
        for key in ("ports", "port_ranges"):
            if getattr(self, key) and self.protocol not in PORT_PROTOCOLS:
                yield Broken((key,), f"ports need protocol tcp or udp, not {self.protocol!r}")
        for index, name in enumerate(self.applications):
            if name not in KNOWN_APPLICATIONS:
                yield Broken(("applications", index), f"{name!r} is not an application of the "
                             "catalogue (GET /api/v1/applications lists them)")  # fmt: skip
        given = (self.ports, self.port_ranges, self.prefixes, self.applications, self.hosts)
        if self.protocol == "any" and self.dscp is None and not any(given):
            yield Broken((), "a class matches by at least one of protocol, ports, port_ranges, "
                         "prefixes, dscp, applications, hosts", "missing")  # fmt: skip

    @property
    def needs_dpi(self) -> bool:
        return bool(self.applications or self.hosts)


@dataclass(frozen=True)
class SteeringPolicy(Section):
    """Class `class_name` (of `tenant`'s services only, when given) goes out of the first link
    of `links` that is up and keeps `sla`; with `spread`, its flows are hashed over all such
    links. When none is, it takes the first link that is up at all."""

    class_name: str = prop(NAME, required=True, key="class")
    links: tuple[str, ...] = prop(ListOf(NAME, MAX_LINKS), required=True)
    sla: str | None = prop(NAME)
    spread: bool = prop(Boolean(), default=False)
    tenant: str | None = prop(IDENT)

    def problems(self) -> Iterator[Broken]:
        if not self.links:
            yield Broken(("links",), "a policy names at least one link", "missing")
        yield from unique(self.links, lambda name: name, "links")


@dataclass(frozen=True)
class Steering(Section):
    """The site's steering: classes, SLA profiles and policies (the first policy whose class
    and tenant match a flow decides it); `default_links` for traffic no policy takes (none:
    every link in the order of the site's links); `hold_s` before a class moves back to a
    link it left (its failback hold)."""

    classes: tuple[AppClass, ...] = prop(ListOf(Record(AppClass), MAX_APP_CLASSES), factory=tuple)
    sla_profiles: tuple[SlaProfile, ...] = prop(
        ListOf(Record(SlaProfile), MAX_SLA_PROFILES), factory=tuple
    )
    policies: tuple[SteeringPolicy, ...] = prop(
        ListOf(Record(SteeringPolicy), MAX_POLICIES), factory=tuple
    )
    default_links: tuple[str, ...] = prop(ListOf(NAME, MAX_LINKS), factory=tuple)
    hold_s: int = prop(Integer(0, 3600, "seconds"), default=30)

    def problems(self) -> Iterator[Broken]:
        yield from unique(self.classes, lambda c: c.name, "classes")
        yield from unique(self.sla_profiles, lambda p: p.name, "sla_profiles")
        yield from unique(self.policies, lambda p: f"{p.class_name} {p.tenant}", "policies")
        yield from unique(self.default_links, lambda name: name, "default_links")
        classes = {c.name for c in self.classes}
        profiles = {p.name for p in self.sla_profiles}
        for index, policy in enumerate(self.policies):
            if policy.class_name not in classes:
                yield Broken(("policies", index, "class"),
                             f"{policy.class_name!r} names no class of classes")  # fmt: skip
            if policy.sla is not None and policy.sla not in profiles:
                yield Broken(("policies", index, "sla"),
                             f"{policy.sla!r} names no profile of sla_profiles")  # fmt: skip

    def class_(self, name: str) -> AppClass | None:
        return next((c for c in self.classes if c.name == name), None)

    def profile(self, name: str | None) -> SlaProfile | None:
        return next((p for p in self.sla_profiles if p.name == name), None)

    def link_names(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Every link this section names, with its path (for the site-wide check)."""
        for index, policy in enumerate(self.policies):
            for position, name in enumerate(policy.links):
                yield ("policies", index, "links", position), name
        for position, name in enumerate(self.default_links):
            yield ("default_links", position), name
