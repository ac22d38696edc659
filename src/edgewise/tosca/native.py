"""Edgewise native functions: the typed, validated configuration of edgewise.nodes.* VNFs.

The site data plane (namespaces, nftables, tc) is built from these values. Type and
constraint checks have already run; this adds the checks TOSCA cannot express (prefixes).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

from edgewise.tosca.problems import Mark, ProblemLog
from edgewise.tosca.scalars import parse_scalar


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


class FunctionBuilder:
    """Builds one function's config from its effective (defaulted, plain) property values."""

    def __init__(self, mark: Mark, path: str, log: ProblemLog) -> None:
        self.mark = mark
        self.path = path
        self.log = log

    def build(
        self, type_names: tuple[str, ...], props: dict[str, object]
    ) -> EdgewiseFunction | None:
        builders: dict[str, Callable[[dict[str, object]], EdgewiseFunction]] = {
            "edgewise.nodes.Firewall": self._firewall,
            "edgewise.nodes.Nat": self._nat,
            "edgewise.nodes.RateLimiter": self._rate_limiter,
            "edgewise.nodes.Classifier": self._classifier,
            "edgewise.nodes.Router": self._router,
            "edgewise.nodes.Process": self._process,
        }
        for name in type_names:
            if name in builders:
                return builders[name](props)
        return None

    def _prefix(self, value: object, path: str) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_network(str(value), strict=False))
        except ValueError:
            self.log.add(
                self.mark,
                f"{self.path}.{path}",
                "property.value",
                f"'{value}' is not an IP address or prefix (e.g. 192.0.2.0/24 or 2001:db8::/32)",
            )
            return None

    def _firewall(self, props: dict[str, object]) -> FirewallConfig:
        rules = []
        for index, rule in enumerate(_maps(props.get("rules"))):
            where = f"properties.rules[{index}]"
            low_high = rule.get("port_range")
            port_range = (
                (int(low_high[0]), int(low_high[1]))
                if isinstance(low_high, list) and len(low_high) == 2
                else None
            )
            rules.append(
                FirewallRule(
                    action=str(rule.get("action", "accept")),
                    protocol=str(rule.get("protocol", "any")),
                    source=self._prefix(rule.get("source"), f"{where}.source"),
                    destination=self._prefix(rule.get("destination"), f"{where}.destination"),
                    port=_int(rule.get("port")),
                    port_range=port_range,
                    direction=str(rule.get("direction", "outbound")),
                    description=_str(rule.get("description")),
                )
            )
        return FirewallConfig(str(props.get("default_action", "drop")), tuple(rules))

    def _nat(self, props: dict[str, object]) -> NatConfig:
        mode = str(props.get("mode", "masquerade"))
        source = props.get("source_address")
        if mode == "snat" and source is None:
            self.log.add(
                self.mark,
                f"{self.path}.properties.source_address",
                "property.required",
                "mode 'snat' needs source_address, the fixed address to translate to",
            )
        forwards = []
        for index, forward in enumerate(_maps(props.get("port_forwards"))):
            address = self._prefix(
                forward.get("to_address"), f"properties.port_forwards[{index}].to_address"
            )
            port = _int(forward.get("port")) or 0
            forwards.append(
                PortForward(
                    str(forward.get("protocol", "tcp")),
                    port,
                    (address or "").split("/")[0],
                    _int(forward.get("to_port")) or port,
                )
            )
        return NatConfig(mode, _str(source), tuple(forwards))

    def _rate_limiter(self, props: dict[str, object]) -> RateLimiterConfig:
        def rate(key: str, kind: str) -> int | None:
            value = parse_scalar(kind, props.get(key))
            return None if value is None else int(value)

        return RateLimiterConfig(
            rate("ingress_rate", "scalar-unit.bitrate"),
            rate("egress_rate", "scalar-unit.bitrate"),
            rate("burst", "scalar-unit.size"),
        )

    def _classifier(self, props: dict[str, object]) -> ClassifierConfig:
        classes = []
        for index, item in enumerate(_maps(props.get("classes"))):
            prefixes = [
                self._prefix(p, f"properties.classes[{index}].prefixes[{n}]")
                for n, p in enumerate(_list(item.get("prefixes")))
            ]
            classes.append(
                TrafficClass(
                    str(item.get("name", "")),
                    _str(item.get("protocol")),
                    tuple(p for p in (_int(x) for x in _list(item.get("ports"))) if p is not None),
                    _int(item.get("dscp")),
                    tuple(p for p in prefixes if p),
                )
            )
        return ClassifierConfig(tuple(classes))

    def _router(self, props: dict[str, object]) -> RouterConfig:
        routes = []
        for index, item in enumerate(_maps(props.get("routes"))):
            where = f"properties.routes[{index}]"
            routes.append(
                StaticRoute(
                    self._prefix(item.get("destination"), f"{where}.destination") or "",
                    _str(item.get("via")),
                    _str(item.get("device")),
                    _int(item.get("metric")),
                )
            )
        return RouterConfig(tuple(routes))

    def _process(self, props: dict[str, object]) -> ProcessConfig:
        env = props.get("env")
        pairs = (
            tuple(sorted((str(k), str(v)) for k, v in env.items())) if isinstance(env, dict) else ()
        )
        return ProcessConfig(
            str(props.get("command", "")),
            tuple(str(a) for a in _list(props.get("args"))),
            pairs,
            str(props.get("restart", "on-failure")),
        )


def _maps(value: object) -> list[dict[str, object]]:
    return [item for item in _list(value) if isinstance(item, dict)]


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return None if value is None else str(value)
