"""The WAN links as kernel objects (pure): per link its routes and rule, and the source NAT
table `ip ew_links` as one libnftables batch; reading that table's marker back.

The batch adds, deletes and adds the table again before filling it (one transaction, as the
VNFs' rulesets): a masquerade (or a `snat to` the link's own address) per link interface. Its
`info` chain's one rule carries `ew1 links <digest> <rules>`: the links digest it was built for
and how many rules the table holds, so a deleted rule or a flushed table is seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any, Final

from edgewise.model.links import WanLink
from edgewise.site.drivers.linux.kernel import KernelRoute, KernelRule
from edgewise.site.drivers.linux.layout import TAG
from edgewise.site.drivers.linux.wanmarks import (
    PROTO_WAN,
    UNREACHABLE_METRIC,
    link_mark,
    link_rule,
    link_table,
)

Json = dict[str, Any]
FAMILY: Final = "ip"
LINKS_TABLE: Final = "ew_links"
INFO: Final = "info"
DEFAULT_ROUTE: Final = IPv4Network("0.0.0.0/0")
WAN_SYSCTLS: Final = {
    "net.ipv4.ip_forward": "1",
    # a link without carrier: its routes are skipped, so its table's unreachable default holds
    "net.ipv4.conf.all.ignore_routes_with_linkdown": "1",
    "net.ipv4.conf.default.ignore_routes_with_linkdown": "1",
    # replies come back by the link their flow left by, not always the main table's default
    "net.ipv4.conf.all.rp_filter": "2",
}


@dataclass(frozen=True)
class LinkPlan:
    """One link as built: its slot, and the gateway in use (given, or the host's DHCP one)."""

    link: WanLink
    slot: int
    gateway: IPv4Address | None

    @property
    def mark(self) -> int:
        return link_mark(self.slot)

    @property
    def table(self) -> int:
        return link_table(self.slot)

    @property
    def rule(self) -> KernelRule:
        return link_rule(self.slot)

    def routes(self, oif: int) -> list[KernelRoute]:
        return link_routes(self.slot, self.gateway, oif)


def link_routes(slot: int, gateway: IPv4Address | None, oif: int) -> list[KernelRoute]:
    """A link's table: the default via its gateway (when known), and the unreachable default."""
    table = link_table(slot)
    wanted = [KernelRoute(DEFAULT_ROUTE, None, PROTO_WAN, None, table, unreachable=True,
                          metric=UNREACHABLE_METRIC)]  # fmt: skip
    if gateway is not None:
        wanted.insert(0, KernelRoute(DEFAULT_ROUTE, gateway, PROTO_WAN, oif, table))
    return wanted


def same_route(a: KernelRoute, b: KernelRoute) -> bool:
    return (a.destination, a.gateway, a.unreachable, a.metric, a.table) == (
        b.destination, b.gateway, b.unreachable, b.metric, b.table,
    )  # fmt: skip


def table_spec(name: str) -> Json:
    return {"family": FAMILY, "name": name}


def chain(table: str, name: str, hook: str | None = None, priority: int = 0,
          kind: str = "filter") -> Json:  # fmt: skip
    spec: Json = {"family": FAMILY, "table": table, "name": name}
    if hook is not None:
        spec.update(type=kind, hook=hook, prio=priority, policy="accept")
    return {"add": {"chain": spec}}


def rule(table: str, chain_name: str, expr: list[Json], comment: str | None = None) -> Json:
    spec: Json = {"family": FAMILY, "table": table, "chain": chain_name, "expr": expr}
    if comment is not None:
        spec["comment"] = comment
    return {"add": {"rule": spec}}


def fresh_table(name: str) -> list[Json]:
    """Add, delete, add: the table is replaced whole in the batch's transaction."""
    return [{"add": {"table": table_spec(name)}}, {"delete": {"table": table_spec(name)}},
            {"add": {"table": table_spec(name)}}]  # fmt: skip


def marked(table: str, kind: str, digest: str, body: list[Json]) -> list[Json]:
    """`body` (chains and rules of `table`) with the info chain and its marker rule first."""
    rules = sum(1 for item in body if "rule" in item.get("add", {})) + 1
    marker = rule(table, INFO, [{"counter": None}], f"{TAG} {kind} {digest} {rules}")
    return [*fresh_table(table), chain(table, INFO), marker, *body]


def read_marker(items: Sequence[Json], kind: str) -> str:
    """The digest a table was built for; "" when its marker is gone or rules are missing."""
    rules = [item["rule"] for item in items if isinstance(item.get("rule"), dict)]
    for found in rules:
        words = str(found.get("comment", "")).split()
        if len(words) == 4 and words[:2] == [TAG, kind] and words[3] == str(len(rules)):
            return words[2]
    return ""


def links_batch(plans: Sequence[LinkPlan], digest: str) -> list[Json]:
    """The `ip ew_links` table: source NAT out of each link's interface."""
    body = [chain(LINKS_TABLE, "nat", "postrouting", 100, kind="nat")]
    for plan in plans:
        out = {"match": {"op": "==", "left": {"meta": {"key": "oifname"}},
                         "right": plan.link.interface}}  # fmt: skip
        address = plan.link.address
        action: Json = (
            {"masquerade": None} if address is None else {"snat": {"addr": str(address.ip)}}
        )
        body.append(rule(LINKS_TABLE, "nat", [out, {"counter": None}, action], plan.link.name))
    return marked(LINKS_TABLE, "links", digest, body)


def nat_counters(items: Sequence[Json]) -> dict[str, dict[str, int]]:
    """Packets and bytes source-NATed per link (flows' first packets), by link name."""
    found: dict[str, dict[str, int]] = {}
    for item in items:
        spec = item.get("rule")
        if not isinstance(spec, dict) or spec.get("chain") != "nat":
            continue
        for expr in spec.get("expr", []):
            counter = expr.get("counter") if isinstance(expr, dict) else None
            if isinstance(counter, dict):
                found[str(spec.get("comment", ""))] = {
                    "packets": int(counter.get("packets", 0)),
                    "bytes": int(counter.get("bytes", 0)),
                }
    return found
