"""A VNF's config from the desired state (SOL001 native properties) -> edgewise.tosca.native values.

The central validated these properties when the package was onboarded; the driver checks them
again where they enter the data plane and raises VnfConfigError naming the property at fault.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from edgewise.model.desired import VnfFunction
from edgewise.site.drivers.linux.errors import VnfConfigError
from edgewise.tosca.native import (
    ClassifierConfig,
    EdgewiseFunction,
    FirewallConfig,
    FirewallRule,
    NatConfig,
    PortForward,
    ProcessConfig,
    RateLimiterConfig,
    RouterConfig,
    StaticRoute,
    TrafficClass,
)
from edgewise.tosca.scalars import parse_scalar


def function_config(function: VnfFunction, config: Mapping[str, Any]) -> EdgewiseFunction:
    """The typed config of a VNF; raises VnfConfigError for a value the data plane cannot use."""
    reader = Reader(config)
    if function is VnfFunction.FIREWALL:
        return reader.firewall()
    if function is VnfFunction.NAT:
        return reader.nat()
    if function is VnfFunction.ROUTER:
        return reader.router()
    if function is VnfFunction.RATE_LIMITER:
        return reader.rate_limiter()
    if function is VnfFunction.CLASSIFIER:
        return reader.classifier()
    return reader.process()


class Reader:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def firewall(self) -> FirewallConfig:
        rules = []
        for i, rule in self.items("rules"):
            where = f"rules[{i}]"
            port_range = rule.get("port_range")
            span: tuple[int, int] | None = None
            if port_range is not None:
                low, high = self.ranged(port_range, f"{where}.port_range")
                span = (low, high)
            rules.append(
                FirewallRule(
                    action=choice(rule, "action", ("accept", "drop", "reject"), "accept", where),
                    protocol=choice(rule, "protocol", ("tcp", "udp", "icmp", "any"), "any", where),
                    source=prefix(rule.get("source"), f"{where}.source"),
                    destination=prefix(rule.get("destination"), f"{where}.destination"),
                    port=port(rule.get("port"), f"{where}.port"),
                    port_range=span,
                    direction=choice(
                        rule, "direction", ("outbound", "inbound", "any"), "outbound", where
                    ),
                    description=None,
                )
            )
            if (rules[-1].port or span) and rules[-1].protocol not in ("tcp", "udp"):
                raise VnfConfigError(f"{where}: a port needs protocol tcp or udp")
        default = choice(self.config, "default_action", ("accept", "drop", "reject"), "drop", "")
        return FirewallConfig(default, tuple(rules))

    def nat(self) -> NatConfig:
        mode = choice(self.config, "mode", ("masquerade", "snat"), "masquerade", "")
        source = self.config.get("source_address")
        if mode == "snat" and source is None:
            raise VnfConfigError("source_address: mode 'snat' needs the address to translate to")
        if source is not None:
            source = str(address(source, "source_address"))
        forwards = []
        for i, item in self.items("port_forwards"):
            where = f"port_forwards[{i}]"
            public = port(item.get("port"), f"{where}.port")
            if public is None:
                raise VnfConfigError(f"{where}.port: missing")
            forwards.append(
                PortForward(
                    choice(item, "protocol", ("tcp", "udp"), "tcp", where),
                    public,
                    str(address(item.get("to_address"), f"{where}.to_address")),
                    port(item.get("to_port"), f"{where}.to_port") or public,
                )
            )
        return NatConfig(mode, source, tuple(forwards))

    def router(self) -> RouterConfig:
        routes = []
        for i, item in self.items("routes"):
            where = f"routes[{i}]"
            destination = prefix(item.get("destination"), f"{where}.destination")
            if destination is None:
                raise VnfConfigError(f"{where}.destination: missing")
            via = item.get("via")
            device = choice(item, "device", ("lan", "wan"), "", where) or None
            if via is None and device is None:
                raise VnfConfigError(f"{where}: needs via or device (lan or wan)")
            metric = item.get("metric")
            if metric is not None and not is_int(metric, 0, 2**31):
                raise VnfConfigError(f"{where}.metric: {metric!r} is not a route metric")
            routes.append(
                StaticRoute(
                    destination,
                    None if via is None else str(address(via, f"{where}.via")),
                    device,
                    metric,
                )
            )
        return RouterConfig(tuple(routes))

    def rate_limiter(self) -> RateLimiterConfig:
        return RateLimiterConfig(
            rate(self.config.get("ingress_rate"), "ingress_rate", "scalar-unit.bitrate"),
            rate(self.config.get("egress_rate"), "egress_rate", "scalar-unit.bitrate"),
            rate(self.config.get("burst"), "burst", "scalar-unit.size"),
        )

    def classifier(self) -> ClassifierConfig:
        classes = []
        for i, item in self.items("classes"):
            where = f"classes[{i}]"
            name = item.get("name")
            if not isinstance(name, str) or not name:
                raise VnfConfigError(f"{where}.name: missing")
            dscp = item.get("dscp")
            if dscp is not None and not is_int(dscp, 0, 63):
                raise VnfConfigError(f"{where}.dscp: {dscp!r} is not a DSCP value (0-63)")
            protocol = choice(item, "protocol", ("tcp", "udp", "icmp", "any"), "any", where)
            ports = tuple(
                port(p, f"{where}.ports[{n}]") or 0 for n, p in enumerate(seq(item, "ports", where))
            )
            if ports and protocol not in ("tcp", "udp"):
                raise VnfConfigError(f"{where}: ports need protocol tcp or udp")
            prefixes = tuple(
                prefix(p, f"{where}.prefixes[{n}]") or ""
                for n, p in enumerate(seq(item, "prefixes", where))
            )
            classes.append(TrafficClass(name, protocol, ports, dscp, prefixes))
        return ClassifierConfig(tuple(classes))

    def process(self) -> ProcessConfig:
        command = self.config.get("command")
        if not isinstance(command, str) or not command:
            raise VnfConfigError("command: missing")
        env = self.config.get("env") or {}
        if not isinstance(env, Mapping):
            raise VnfConfigError("env: expected an object")
        return ProcessConfig(
            command,
            tuple(str(a) for a in seq(self.config, "args", "")),
            tuple(sorted((str(k), str(v)) for k, v in env.items())),
            choice(self.config, "restart", ("always", "on-failure", "never"), "on-failure", ""),
        )

    def items(self, key: str) -> list[tuple[int, Mapping[str, Any]]]:
        entries = seq(self.config, key, "")
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                raise VnfConfigError(f"{key}[{i}]: expected an object")
        return list(enumerate(entries))

    def ranged(self, value: object, where: str) -> tuple[int, int]:
        if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
            low, high = port(value[0], where), port(value[1], where)
            if low is not None and high is not None and low <= high:
                return low, high
        raise VnfConfigError(f"{where}: {value!r} is not a port range [low, high]")


def seq(item: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = item.get(key)
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise VnfConfigError(f"{dotted(where, key)}: expected an array")
    return value


def choice(
    item: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str, where: str
) -> str:
    value = item.get(key, default)
    if value not in (*allowed, default):
        raise VnfConfigError(f"{dotted(where, key)}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def dotted(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def is_int(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def port(value: object, where: str) -> int | None:
    if value is None:
        return None
    if not is_int(value, 1, 65535):
        raise VnfConfigError(f"{where}: {value!r} is not a port number (1-65535)")
    assert isinstance(value, int)
    return value


def prefix(value: object, where: str) -> str | None:
    if value is None:
        return None
    try:
        network = ipaddress.ip_network(str(value), strict=False)
    except ValueError as exc:
        raise VnfConfigError(f"{where}: {value!r} is not an IP prefix") from exc
    if network.version != 4:
        raise VnfConfigError(f"{where}: {value!r}: only IPv4 is supported yet")
    return str(network)


def address(value: object, where: str) -> ipaddress.IPv4Address:
    try:
        parsed = ipaddress.ip_address(str(value).split("/", 1)[0])
    except ValueError as exc:
        raise VnfConfigError(f"{where}: {value!r} is not an IP address") from exc
    if not isinstance(parsed, ipaddress.IPv4Address):
        raise VnfConfigError(f"{where}: {value!r}: only IPv4 is supported yet")
    return parsed


def rate(value: object, where: str, kind: str) -> int | None:
    if value is None:
        return None
    if is_int(value, 1, 2**63):
        assert isinstance(value, int)
        return value
    amount = parse_scalar(kind, value)
    if amount is None or amount <= 0:
        raise VnfConfigError(f"{where}: {value!r} is not a positive {kind.rsplit('.', 1)[-1]}")
    return int(amount)
