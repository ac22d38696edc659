"""Edgewise native functions: the typed configuration values of edgewise.nodes.* VNFs.

The site data plane (namespaces, nftables, tc) is built from these values; nativebuild.py
makes them from a node template's properties.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class FirewallRule:
    action: str
    protocol: str
    source: str | None
    destination: str | None
    port: int | None
    port_range: tuple[int, int] | None
    direction: str
    description: str | None = None


@dataclass(frozen=True)
class FirewallConfig:
    default_action: str
    rules: tuple[FirewallRule, ...]


@dataclass(frozen=True)
class PortForward:
    protocol: str
    port: int
    to_address: str
    to_port: int


@dataclass(frozen=True)
class NatConfig:
    mode: str
    source_address: str | None
    port_forwards: tuple[PortForward, ...]


@dataclass(frozen=True)
class RateLimiterConfig:
    ingress_bps: int | None
    egress_bps: int | None
    burst_bytes: int | None


@dataclass(frozen=True)
class TrafficClass:
    name: str
    protocol: str | None
    ports: tuple[int, ...]
    dscp: int | None
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class ClassifierConfig:
    classes: tuple[TrafficClass, ...]


@dataclass(frozen=True)
class StaticRoute:
    destination: str
    via: str | None
    device: str | None
    metric: int | None


@dataclass(frozen=True)
class RouterConfig:
    routes: tuple[StaticRoute, ...]


@dataclass(frozen=True)
class ProcessConfig:
    command: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    restart: str


EdgewiseFunction = Union[  # noqa: UP007 (a runtime alias, readable in error messages)
    FirewallConfig, NatConfig, RateLimiterConfig, ClassifierConfig, RouterConfig, ProcessConfig
]
