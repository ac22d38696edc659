"""A VNF's nftables ruleset as one libnftables JSON batch (pure), and reading its marker back.

Each VNF namespace holds one table, `inet edgewise`. The batch adds, deletes and adds it again
before filling it, so a config change replaces the whole table in ONE transaction: packets see
the old rules or the new, never none; conntrack entries (hence established flows and their NAT
bindings) are untouched. The `info` chain's one rule carries `<tag> <function> <config digest>`
as its comment: how a restarted driver knows which config the running ruleset was built from.
Legs are matched by interface group (layout.GROUP_LAN / GROUP_WAN), not by name.
"""

from __future__ import annotations

from edgewise.model.functions import (
    ClassifierConfig,
    FirewallConfig,
    FirewallRule,
    FunctionConfig,
    NatConfig,
    RateLimiterConfig,
)
from edgewise.site.drivers.linux.classes import classifier
from edgewise.site.drivers.linux.layout import GROUP_LAN, GROUP_WAN, TAG
from edgewise.site.drivers.linux.nftjson import (
    FAMILY,
    TABLE,
    Json,
    chain,
    match,
    meta,
    prefix,
    rule,
    verdict,
)
from edgewise.site.drivers.linux.shaping import shaped_groups

INFO_CHAIN = "info"
SHAPE_TAG = f"{TAG}-shape"  # info rule of a rate limiter: the leg groups it shapes


def table_batch(function: str, digest: str, config: FunctionConfig) -> list[Json]:
    """The batch that (re)builds the VNF's table for `config`."""
    table = {"family": FAMILY, "name": TABLE}
    batch: list[Json] = [
        {"add": {"table": table}},
        {"delete": {"table": table}},
        {"add": {"table": table}},
        chain(INFO_CHAIN),
        rule(INFO_CHAIN, [{"counter": None}], comment=f"{TAG} {function} {digest}"),
    ]
    if isinstance(config, FirewallConfig):
        batch += firewall(config)
    elif isinstance(config, NatConfig):
        batch += nat(config)
    elif isinstance(config, ClassifierConfig):
        batch += classifier(config)
    elif isinstance(config, RateLimiterConfig):
        groups = ",".join(str(g) for g in shaped_groups(config)) or "-"
        batch.append(rule(INFO_CHAIN, [{"counter": None}], comment=f"{SHAPE_TAG} {groups}"))
    return batch


def read_marker(items: list[Json]) -> tuple[str, str] | None:
    """(function, digest) from a listed table's info rule, None when it is not there."""
    for item in items:
        found = item.get("rule")
        if isinstance(found, dict) and found.get("chain") == INFO_CHAIN:
            parts = str(found.get("comment", "")).split()
            if len(parts) == 3 and parts[0] == TAG:
                return parts[1], parts[2]
    return None


def read_shaped_groups(items: list[Json]) -> list[int]:
    """The leg groups a rate limiter's ruleset says it shapes (empty when none)."""
    for item in items:
        found = item.get("rule")
        if isinstance(found, dict) and found.get("chain") == INFO_CHAIN:
            parts = str(found.get("comment", "")).split()
            if len(parts) == 2 and parts[0] == SHAPE_TAG and parts[1] != "-":
                return [int(g) for g in parts[1].split(",") if g.isdigit()]
    return []


def rule_counters(items: list[Json]) -> dict[str, tuple[int, int]]:
    """(packets, bytes) of every commented rule outside the info chain, by comment."""
    counters: dict[str, tuple[int, int]] = {}
    for item in items:
        found = item.get("rule")
        if not isinstance(found, dict) or found.get("chain") == INFO_CHAIN:
            continue
        comment = found.get("comment")
        for expr in found.get("expr", []):
            counter = expr.get("counter") if isinstance(expr, dict) else None
            if comment and isinstance(counter, dict):
                counters[str(comment)] = (int(counter["packets"]), int(counter["bytes"]))
    return counters


def firewall(config: FirewallConfig) -> list[Json]:
    """Stateful filter: replies pass, rules in order, LAN->WAN default action, WAN->LAN drop."""
    batch = [
        chain("forward", hook="forward"),
        rule(
            "forward",
            [match({"ct": {"key": "state"}}, ["established", "related"], "in"), {"accept": None}],
        ),
        rule("forward", [match({"ct": {"key": "state"}}, ["invalid"], "in"), {"drop": None}]),
    ]
    batch += [
        rule("forward", firewall_rule(r), comment=f"rule-{i}") for i, r in enumerate(config.rules)
    ]
    batch.append(
        rule(
            "forward",
            [match(meta("iifgroup"), GROUP_LAN), {"counter": None}, verdict(config.default_action)],
            comment="default-outbound",
        )
    )
    batch.append(rule("forward", [{"counter": None}, {"drop": None}], comment="default-inbound"))
    return batch


def firewall_rule(r: FirewallRule) -> list[Json]:
    expr: list[Json] = []
    if r.direction != "any":
        expr.append(match(meta("iifgroup"), GROUP_LAN if r.direction == "outbound" else GROUP_WAN))
    expr.append(match(meta("nfproto"), "ipv4"))
    if r.source:
        expr.append(match({"payload": {"protocol": "ip", "field": "saddr"}}, prefix(r.source)))
    if r.destination:
        expr.append(match({"payload": {"protocol": "ip", "field": "daddr"}}, prefix(r.destination)))
    if r.protocol != "any":
        expr.append(match(meta("l4proto"), r.protocol))
    if r.port is not None:
        expr.append(match({"payload": {"protocol": r.protocol, "field": "dport"}}, r.port))
    if r.port_range is not None:
        field = {"payload": {"protocol": r.protocol, "field": "dport"}}
        expr.append(match(field, {"range": list(r.port_range)}))
    return [*expr, {"counter": None}, verdict(r.action)]


def nat(config: NatConfig) -> list[Json]:
    """Port forwards arriving on the WAN leg; masquerade or a fixed source leaving by it."""
    batch = [
        chain("prerouting", hook="prerouting", kind="nat", priority=-100),
        chain("postrouting", hook="postrouting", kind="nat", priority=100),
    ]
    for i, forward in enumerate(config.port_forwards):
        expr = [
            match(meta("iifgroup"), GROUP_WAN),
            match(meta("nfproto"), "ipv4"),
            match(meta("l4proto"), forward.protocol),
            match({"payload": {"protocol": forward.protocol, "field": "dport"}}, forward.port),
            {"counter": None},
            {
                "dnat": {
                    "family": "ip",
                    "addr": str(forward.to_address),
                    "port": forward.target_port,
                }
            },
        ]
        batch.append(rule("prerouting", expr, comment=f"forward-{i}"))
    translate: Json = (
        {"snat": {"family": "ip", "addr": str(config.source_address)}}
        if config.mode == "snat" and config.source_address is not None
        else {"masquerade": None}
    )
    expr = [match(meta("oifgroup"), GROUP_WAN), match(meta("nfproto"), "ipv4"), {"counter": None}]
    batch.append(rule("postrouting", [*expr, translate], comment="source-nat"))
    return batch
