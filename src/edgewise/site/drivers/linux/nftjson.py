"""Building blocks of libnftables JSON commands for the VNF's table `inet edgewise` (pure)."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any

FAMILY = "inet"
TABLE = "edgewise"
Json = dict[str, Any]


def chain(name: str, hook: str | None = None, kind: str = "filter", priority: int = 0) -> Json:
    spec: Json = {"family": FAMILY, "table": TABLE, "name": name}
    if hook is not None:
        spec.update(type=kind, hook=hook, prio=priority, policy="accept")
    return {"add": {"chain": spec}}


def rule(chain_name: str, expr: list[Json], comment: str | None = None) -> Json:
    spec: Json = {"family": FAMILY, "table": TABLE, "chain": chain_name, "expr": expr}
    if comment is not None:
        spec["comment"] = comment
    return {"add": {"rule": spec}}


def match(left: Json, right: Any, op: str = "==") -> Json:
    return {"match": {"op": op, "left": left, "right": right}}


def meta(key: str) -> Json:
    return {"meta": {"key": key}}


def prefix(value: IPv4Network) -> Any:
    """An address (a /32) or a prefix match value."""
    if value.prefixlen == 32:
        return str(value.network_address)
    return {"prefix": {"addr": str(value.network_address), "len": value.prefixlen}}


def verdict(action: str) -> Json:
    return {action: None}
