"""Edgewise native functions: the typed configuration of each VNF function, as the desired state
carries it (keys are the SOL001 property names of the `edgewise.nodes.*` types).

The linux driver builds the data plane from these values; the TOSCA loader reads a node
template's properties through `read_config`, and so does the central for every update. The
limits are the data plane's: what a site cannot build is refused where it enters.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import Final, Union

from edgewise.model.fields import Broken, Record, Section, prop, read, unique, write
from edgewise.model.kinds import (
    PORT,
    Address,
    Choice,
    Integer,
    ListOf,
    MapOf,
    PortRange,
    Prefix,
    Scalar,
    Text,
)
from edgewise.model.problems import Json, Path
from edgewise.model.software import SoftwareConfig


class VnfFunction(StrEnum):
    """What a VNF does on the data plane."""

    ROUTER = "router"
    FIREWALL = "firewall"
    NAT = "nat"
    RATE_LIMITER = "rate-limiter"
    CLASSIFIER = "classifier"
    PROCESS = "process"
    SOFTWARE = "software"  # a third-party VNF from a SOL004 package (software.py)


FUNCTION_VALUES: Final = frozenset(f.value for f in VnfFunction)
ACTIONS: Final = Choice(("accept", "drop", "reject"))
PROTOCOLS: Final = Choice(("tcp", "udp", "icmp", "any"))
PORT_PROTOCOLS: Final = ("tcp", "udp")
MAX_RULES: Final = 512
MAX_FORWARDS: Final = 256
MAX_ROUTES: Final = 256
MAX_CLASSES: Final = 254  # marks 1..254; 255 is "unclassified"
MAX_MATCHES: Final = 64  # ports or prefixes of one class
UNCLASSIFIED: Final = "unclassified"
DESCRIPTION: Final = Text(1024, what="a string", blank=True)


@dataclass(frozen=True)
class FirewallRule(Section):
    """One rule, in order: traffic that matches every given field gets `action`."""

    action: str = prop(ACTIONS, default="accept")
    protocol: str = prop(PROTOCOLS, default="any")
    source: IPv4Network | None = prop(Prefix())
    destination: IPv4Network | None = prop(Prefix())
    port: int | None = prop(PORT)
    port_range: tuple[int, int] | None = prop(PortRange())
    direction: str = prop(Choice(("outbound", "inbound", "any")), default="outbound")
    description: str | None = prop(DESCRIPTION)

    def problems(self) -> Iterator[Broken]:
        for key in ("port", "port_range"):
            if getattr(self, key) is not None and self.protocol not in PORT_PROTOCOLS:
                yield Broken((key,), f"a port needs protocol tcp or udp, not {self.protocol!r}")
        if self.port is not None and self.port_range is not None:
            yield Broken(("port_range",), "give port or port_range, not both")


@dataclass(frozen=True)
class FirewallConfig(Section):
    """Stateful filter: replies pass; rules in order; then `default_action` for traffic from
    the LAN side; traffic from the WAN side is dropped unless a rule accepts it."""

    default_action: str = prop(ACTIONS, default="drop")
    rules: tuple[FirewallRule, ...] = prop(ListOf(Record(FirewallRule), MAX_RULES), factory=tuple)


@dataclass(frozen=True)
class PortForward(Section):
    """Traffic arriving on the WAN side at `port` goes to `to_address`:`to_port`."""

    port: int = prop(PORT, required=True)
    to_address: IPv4Address = prop(Address(), required=True)
    protocol: str = prop(Choice(PORT_PROTOCOLS), default="tcp")
    to_port: int | None = prop(PORT)

    @property
    def target_port(self) -> int:
        return self.to_port or self.port


@dataclass(frozen=True)
class NatConfig(Section):
    """Source NAT of what leaves by the WAN side (masquerade, or a fixed address), and port
    forwards in."""

    mode: str = prop(Choice(("masquerade", "snat")), default="masquerade")
    source_address: IPv4Address | None = prop(Address())
    port_forwards: tuple[PortForward, ...] = prop(
        ListOf(Record(PortForward), MAX_FORWARDS), factory=tuple
    )

    def problems(self) -> Iterator[Broken]:
        if self.mode == "snat" and self.source_address is None:
            yield Broken(
                ("source_address",),
                "mode 'snat' needs source_address, the address to use",
                "missing",
            )
        yield from unique(self.port_forwards, lambda f: f"{f.protocol}/{f.port}", "port_forwards")


BITRATE: Final = Scalar("scalar-unit.bitrate", low=8_000, high=10**12)  # 8 kbit/s .. 1 Tbit/s
BURST: Final = Scalar("scalar-unit.size", low=1_500, high=2**30)  # a packet .. 1 GiB


@dataclass(frozen=True)
class RateLimiterConfig(Section):
    """Token buckets: `ingress_rate` on traffic into the site (WAN -> LAN), `egress_rate` on
    traffic out of it; `burst` is the bucket (default: 10 ms at the rate, at least 32 KiB)."""

    ingress_bps: int | None = prop(BITRATE, key="ingress_rate")
    egress_bps: int | None = prop(BITRATE, key="egress_rate")
    burst_bytes: int | None = prop(BURST, key="burst")


@dataclass(frozen=True)
class TrafficClass(Section):
    """Traffic that matches every given field is in the class (a prefix matches either end)."""

    name: str = prop(Text(48, r"[A-Za-z0-9_.-]+", "a name of letters, digits, _ . -"),
                     required=True)  # fmt: skip
    protocol: str = prop(PROTOCOLS, default="any")
    ports: tuple[int, ...] = prop(ListOf(PORT, MAX_MATCHES), factory=tuple)
    dscp: int | None = prop(Integer(0, 63, "a DSCP value"))
    prefixes: tuple[IPv4Network, ...] = prop(ListOf(Prefix(), MAX_MATCHES), factory=tuple)

    def problems(self) -> Iterator[Broken]:
        if self.ports and self.protocol not in PORT_PROTOCOLS:
            yield Broken(("ports",), f"ports need protocol tcp or udp, not {self.protocol!r}")
        if self.name == UNCLASSIFIED:
            yield Broken(("name",), f"{UNCLASSIFIED!r} is the name of what no class matches")


@dataclass(frozen=True)
class ClassifierConfig(Section):
    """Marks each new connection with its class (the first that matches) and counts them."""

    classes: tuple[TrafficClass, ...] = prop(
        ListOf(Record(TrafficClass), MAX_CLASSES), factory=tuple
    )

    def problems(self) -> Iterator[Broken]:
        return unique(self.classes, lambda c: c.name, "classes")


@dataclass(frozen=True)
class StaticRoute(Section):
    """A route of a router VNF: by a gateway (`via`), out of a leg (`device`), or both."""

    destination: IPv4Network = prop(Prefix(), required=True)
    via: IPv4Address | None = prop(Address())
    device: str | None = prop(Choice(("lan", "wan")))
    metric: int | None = prop(Integer(0, 2**31 - 1, "a route metric"))

    def problems(self) -> Iterator[Broken]:
        if self.via is None and self.device is None:
            yield Broken(
                (), "a route needs via (a gateway address) or device (lan or wan), or both"
            )


@dataclass(frozen=True)
class RouterConfig(Section):
    routes: tuple[StaticRoute, ...] = prop(ListOf(Record(StaticRoute), MAX_ROUTES), factory=tuple)

    def problems(self) -> Iterator[Broken]:
        return unique(self.routes, lambda r: f"{r.destination} via {r.via}", "routes")


ENV_NAME: Final = Text(128, r"[A-Za-z_][A-Za-z0-9_]*", "an environment variable name")


@dataclass(frozen=True)
class ProcessConfig(Section):
    """A program run in the VNF's namespace, supervised by the site controller."""

    command: str = prop(Text(4096, what="a program (a path, or a name on PATH)"), required=True)
    args: tuple[str, ...] = prop(ListOf(Text(4096, what="a string", blank=True), 256),
                                 factory=tuple)  # fmt: skip
    env: tuple[tuple[str, str], ...] = prop(
        MapOf(ENV_NAME, Text(4096, what="a string", blank=True), 128), factory=tuple
    )
    restart: str = prop(Choice(("always", "on-failure", "never")), default="on-failure")


FunctionConfig = Union[  # noqa: UP007 (a runtime alias, readable in error messages)
    FirewallConfig,
    NatConfig,
    RateLimiterConfig,
    ClassifierConfig,
    RouterConfig,
    ProcessConfig,
    SoftwareConfig,
]
CONFIGS: Final[Mapping[VnfFunction, type[FunctionConfig]]] = {
    VnfFunction.FIREWALL: FirewallConfig,
    VnfFunction.NAT: NatConfig,
    VnfFunction.RATE_LIMITER: RateLimiterConfig,
    VnfFunction.CLASSIFIER: ClassifierConfig,
    VnfFunction.ROUTER: RouterConfig,
    VnfFunction.PROCESS: ProcessConfig,
    VnfFunction.SOFTWARE: SoftwareConfig,
}
TOSCA_TYPES: Final[Mapping[str, VnfFunction]] = {
    "edgewise.nodes.Firewall": VnfFunction.FIREWALL,
    "edgewise.nodes.Nat": VnfFunction.NAT,
    "edgewise.nodes.RateLimiter": VnfFunction.RATE_LIMITER,
    "edgewise.nodes.Classifier": VnfFunction.CLASSIFIER,
    "edgewise.nodes.Router": VnfFunction.ROUTER,
    "edgewise.nodes.Process": VnfFunction.PROCESS,
}


def read_config(function: VnfFunction, value: object, path: Path = ()) -> FunctionConfig:
    """The typed config of a VNF of `function`; raises DocumentError naming every problem."""
    return read(CONFIGS[function], {} if value is None else value, path)


def function_of(config: FunctionConfig) -> VnfFunction:
    return next(f for f, cls in CONFIGS.items() if isinstance(config, cls))


def config_document(config: FunctionConfig) -> dict[str, Json]:
    """The canonical document form of a config (what `read_config` reads back equal)."""
    return write(config)
