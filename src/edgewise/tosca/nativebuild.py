"""Node template properties -> Edgewise function configs (native.py), with positioned problems.

Runs in the model builder after type and constraint checks, on effective values (get_input
replaced by the input's default). It adds what TOSCA cannot say (IP prefixes) and re-checks
what an input's default can carry past the property's type (ports, protocols, rates). Every
problem points at the YAML node it is about, or at the get_input call that brought it in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping

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
from edgewise.tosca.problems import Mark, ProblemLog
from edgewise.tosca.scalars import parse_scalar, unit_names
from edgewise.tosca.values import function_call
from edgewise.tosca.yamltree import Node

Segment = str | int
Where = tuple[Segment, ...]

ACTIONS = ("accept", "drop", "reject")
PROTOCOLS = ("tcp", "udp", "icmp", "any")
DIRECTIONS = ("outbound", "inbound", "any")
NAT_MODES = ("masquerade", "snat")
RESTARTS = ("always", "on-failure", "never")


def render(where: Where) -> str:
    """A relative path such as rules[2].port."""
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in where).lstrip(".")


def locate(written: Mapping[str, Node], where: Where) -> Node | None:
    """The deepest written node along the path; a get_input call stops the walk (its value
    comes from elsewhere), None when the property is not written at all (a type default)."""
    first = where[0] if where else None
    node = written.get(first) if isinstance(first, str) else None
    if node is None:
        return None
    for segment in where[1:]:
        if function_call(node) is not None:
            break
        value = node.value
        child: Node | None = None
        if isinstance(segment, int) and isinstance(value, list) and 0 <= segment < len(value):
            child = value[segment]
        elif isinstance(segment, str) and isinstance(value, dict):
            child = value.get(segment)
        if child is None:
            break
        node = child
    return node


class FunctionBuilder:
    """Builds one function's config from its effective (defaulted, plain) property values.

    `written` holds the property nodes as the template states them and `owner` is where the
    node template starts: together they give every problem its line, column and path.
    """

    def __init__(
        self, owner: Mark, path: str, written: Mapping[str, Node], log: ProblemLog
    ) -> None:
        self.owner = owner
        self.path = path
        self.written = written
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

    def report(self, where: Where, code: str, message: str) -> None:
        node = locate(self.written, where)
        mark = self.owner if node is None else node.mark(self.owner.file)
        self.log.add(mark, f"{self.path}.properties.{render(where)}", code, message)

    def _prefix(self, value: object, where: Where) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_network(str(value), strict=False))
        except ValueError:
            self.report(
                where,
                "property.value",
                f"'{value}' is not an IP address or prefix (e.g. 192.0.2.0/24 or 2001:db8::/32)",
            )
            return None

    def _choice(
        self, item: Mapping[str, object], key: str, where: Where, allowed: tuple[str, ...]
    ) -> str | None:
        value = item.get(key)
        if value is None:
            return None
        if value not in allowed:
            self.report(
                (*where, key),
                "property.value",
                f"'{value}' is not a known {key}; expected one of: {', '.join(allowed)}",
            )
        return str(value)

    def _number(self, value: object, where: Where, low: int, high: int, what: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        self.report(
            where,
            "property.value",
            f"'{value}' is not {what}: expected an integer from {low} to {high}",
        )
        return None

    def _port(self, value: object, where: Where) -> int | None:
        return self._number(value, where, 1, 65535, "a port number")

    def _port_range(self, value: object, where: Where) -> tuple[int, int] | None:
        if value is None:
            return None
        if isinstance(value, list) and len(value) == 2:
            low = self._port(value[0], (*where, 0))
            high = self._port(value[1], (*where, 1))
            if low is not None and high is not None and low <= high:
                return low, high
            if low is None or high is None:
                return None
        self.report(where, "property.value", f"'{value}' is not a port range [low, high]")
        return None

    def _firewall(self, props: dict[str, object]) -> FirewallConfig:
        rules = []
        for index, rule in _entries(props.get("rules")):
            where: Where = ("rules", index)
            rules.append(
                FirewallRule(
                    action=self._choice(rule, "action", where, ACTIONS) or "accept",
                    protocol=self._choice(rule, "protocol", where, PROTOCOLS) or "any",
                    source=self._prefix(rule.get("source"), (*where, "source")),
                    destination=self._prefix(rule.get("destination"), (*where, "destination")),
                    port=self._port(rule.get("port"), (*where, "port")),
                    port_range=self._port_range(rule.get("port_range"), (*where, "port_range")),
                    direction=self._choice(rule, "direction", where, DIRECTIONS) or "outbound",
                    description=_str(rule.get("description")),
                )
            )
        default_action = self._choice(props, "default_action", (), ACTIONS) or "drop"
        return FirewallConfig(default_action, tuple(rules))

    def _nat(self, props: dict[str, object]) -> NatConfig:
        mode = self._choice(props, "mode", (), NAT_MODES) or "masquerade"
        source = props.get("source_address")
        if mode == "snat" and source is None:
            self.report(
                ("source_address",),
                "property.required",
                "mode 'snat' needs source_address, the fixed address to translate to",
            )
        forwards = []
        for index, forward in _entries(props.get("port_forwards")):
            where: Where = ("port_forwards", index)
            address = self._prefix(forward.get("to_address"), (*where, "to_address"))
            port = self._port(forward.get("port"), (*where, "port")) or 0
            forwards.append(
                PortForward(
                    self._choice(forward, "protocol", where, ("tcp", "udp")) or "tcp",
                    port,
                    (address or "").split("/")[0],
                    self._port(forward.get("to_port"), (*where, "to_port")) or port,
                )
            )
        return NatConfig(mode, _str(source), tuple(forwards))

    def _rate(self, props: dict[str, object], key: str, kind: str) -> int | None:
        value = props.get(key)
        if value is None:
            return None
        amount = parse_scalar(kind, value)
        if amount is None or amount <= 0:
            self.report(
                (key,),
                "property.value",
                f"'{value}' is not a positive {kind} (units: {unit_names(kind)})",
            )
            return None
        return int(amount)

    def _rate_limiter(self, props: dict[str, object]) -> RateLimiterConfig:
        return RateLimiterConfig(
            self._rate(props, "ingress_rate", "scalar-unit.bitrate"),
            self._rate(props, "egress_rate", "scalar-unit.bitrate"),
            self._rate(props, "burst", "scalar-unit.size"),
        )

    def _classifier(self, props: dict[str, object]) -> ClassifierConfig:
        classes = []
        for index, item in _entries(props.get("classes")):
            where: Where = ("classes", index)
            prefixes = [
                self._prefix(p, (*where, "prefixes", n))
                for n, p in enumerate(_list(item.get("prefixes")))
            ]
            ports = [
                self._port(p, (*where, "ports", n)) for n, p in enumerate(_list(item.get("ports")))
            ]
            classes.append(
                TrafficClass(
                    str(item.get("name", "")),
                    self._choice(item, "protocol", where, PROTOCOLS),
                    tuple(p for p in ports if p is not None),
                    self._number(item.get("dscp"), (*where, "dscp"), 0, 63, "a DSCP value"),
                    tuple(p for p in prefixes if p),
                )
            )
        return ClassifierConfig(tuple(classes))

    def _router(self, props: dict[str, object]) -> RouterConfig:
        routes = []
        for index, item in _entries(props.get("routes")):
            where: Where = ("routes", index)
            routes.append(
                StaticRoute(
                    self._prefix(item.get("destination"), (*where, "destination")) or "",
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
            self._choice(props, "restart", (), RESTARTS) or "on-failure",
        )


def _entries(value: object) -> list[tuple[int, dict[str, object]]]:
    """The mapping items of a list with their indices in the document."""
    return [(index, item) for index, item in enumerate(_list(value)) if isinstance(item, dict)]


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return None if value is None else str(value)
