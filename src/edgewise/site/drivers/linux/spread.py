"""The spreader of an elastic VNF's neighbours (worker thread): new flows hashed over the
instances, each flow kept on its instance by its conntrack mark, both directions.

A VNF with N instances (`VnfSpec.instances`) is N namespaces between the same two neighbours
(instances.py). In each neighbour, table `inet ewspread` marks the conntrack entry of a new flow
with its instance: by the leg it came in by (a flow opened from the instances' side), else by a
jhash of its 5-tuple mod the ACTIVE instances (a draining one takes no new flow). Every packet
that did not come from the instances' side gets the ct mark as its meta mark, and a rule per
instance (fwmark → table) sends it by that instance's copy of the neighbour's routes through the
VNF, bound to the instance's leg. The mark is chosen on the first packet and recorded, not
recomputed: a hash mod N changes with N, the recorded mark does not, so a scale-out or a drain
moves no established flow. Replies come back by the same instance because both neighbours
record the instance the flow crossed. docs/elastic-vnfs.md has the layout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any, Final

from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.kernel import KernelRule, Netlink
from edgewise.site.drivers.linux.layout import PROTO_CHAIN, TAG

SPREAD_TABLE: Final = "ewspread"
FAMILY: Final = "inet"
INFO_CHAIN: Final = "info"
MASK: Final = 0x0F000000  # the ct mark's bits that hold the instance (1-based: 0 is "none")
PROTO_SPREAD: Final = 242  # the per-instance rules and routes the spreader owns
RULE_PRIORITY: Final = 900  # before the main table (32766)
TABLE_BASE: Final = 7700  # instance i's routes: table TABLE_BASE + i
MAX_LEGS: Final = 8
Json = dict[str, Any]


def mark_of(instance: int) -> int:
    return (instance + 1) << 24


@dataclass(frozen=True)
class Leg:
    """A neighbour's leg towards instance `instance` of the elastic VNF."""

    instance: int
    name: str
    index: int  # the interface's index


def spread_marker(legs: Sequence[Leg], active: Sequence[int]) -> str:
    """What the info rule's comment holds: the legs and the active instances, digested."""
    text = ",".join(f"{leg.instance}={leg.name}" for leg in sorted(legs, key=lambda x: x.instance))
    text += "|" + ",".join(str(i) for i in sorted(active))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def legs_marker(legs: Sequence[Leg]) -> str:
    """The legs' part of a marker, as observe can compute it from the kernel alone."""
    return ",".join(sorted(leg.name for leg in legs))


def spread_batch(legs: Sequence[Leg], active: Sequence[int]) -> list[Json]:
    """The batch that (re)builds `inet ewspread` in one transaction (pure)."""
    if not active:
        raise ValueError("no active instance to spread new flows over")
    table = {"family": FAMILY, "name": SPREAD_TABLE}
    names = sorted(leg.name for leg in legs)
    ct_mark: Json = {"ct": {"key": "mark"}}
    new_unmarked: list[Json] = [
        {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "new"}},
        {"match": {"op": "==", "left": {"&": [ct_mark, MASK]}, "right": 0}},
    ]
    by_leg = [[leg.name, mark_of(leg.instance)] for leg in legs]
    five_tuple = {"concat": [
        {"payload": {"protocol": "ip", "field": "saddr"}},
        {"payload": {"protocol": "ip", "field": "daddr"}},
        {"payload": {"protocol": "th", "field": "sport"}},
        {"payload": {"protocol": "th", "field": "dport"}},
        {"meta": {"key": "l4proto"}},
    ]}  # fmt: skip
    by_hash = [[k, mark_of(i)] for k, i in enumerate(sorted(active))]
    hashed = {"jhash": {"mod": len(by_hash), "seed": 0, "expr": five_tuple}}
    comment = f"{TAG} spread {spread_marker(legs, active)} {legs_marker(legs)}"
    return [
        {"add": {"table": table}},
        {"delete": {"table": table}},
        {"add": {"table": table}},
        _chain(INFO_CHAIN),
        _rule(INFO_CHAIN, [{"counter": None}], comment),
        _chain("pre", hook="prerouting", priority=-150),
        _rule("pre", [*new_unmarked,
                      {"match": {"op": "==", "left": {"meta": {"key": "iifname"}},
                                 "right": {"set": names}}},
                      {"mangle": {"key": ct_mark, "value": {"map": {
                          "key": {"meta": {"key": "iifname"}}, "data": {"set": by_leg}}}}}]),
        _rule("pre", [*new_unmarked,
                      {"mangle": {"key": ct_mark, "value": {"map": {
                          "key": hashed, "data": {"set": by_hash}}}}}]),
        _rule("pre", [{"match": {"op": "!=", "left": {"meta": {"key": "iifname"}},
                                 "right": {"set": names}}},
                      {"mangle": {"key": {"meta": {"key": "mark"}}, "value": ct_mark}}]),
    ]  # fmt: skip


def _chain(name: str, hook: str | None = None, priority: int = 0) -> Json:
    spec: Json = {"family": FAMILY, "table": SPREAD_TABLE, "name": name}
    if hook is not None:
        spec.update(type="filter", hook=hook, prio=priority, policy="accept")
    return {"add": {"chain": spec}}


def _rule(chain: str, expr: list[Json], comment: str | None = None) -> Json:
    spec: Json = {"family": FAMILY, "table": SPREAD_TABLE, "chain": chain, "expr": expr}
    if comment is not None:
        spec["comment"] = comment
    return {"add": {"rule": spec}}


def read_spread_marker(items: list[Json] | None) -> tuple[str, str] | None:
    """(marker, legs) from a listed `ewspread` table's info rule; None when not there."""
    for item in items or []:
        found = item.get("rule")
        if isinstance(found, dict) and found.get("chain") == INFO_CHAIN:
            parts = str(found.get("comment", "")).split()
            if len(parts) == 4 and parts[:2] == [TAG, "spread"]:
                return parts[2], parts[3]
    return None


def sync_spreader(
    host: Host, namespace: str, peer: IPv4Address, legs: Sequence[Leg], active: Sequence[int]
) -> bool:
    """Makes the neighbour `namespace` spread over `legs` (new flows over `active` only),
    towards the elastic VNF's address `peer`; with one leg or none, removes the spreader.
    True when something changed."""
    if len(legs) > MAX_LEGS:
        raise ValueError(f"{len(legs)} instances: at most {MAX_LEGS}")
    spreading = len(legs) > 1
    changed = False
    with host.nft(namespace) as nft:
        seen = read_spread_marker(nft.list_table(FAMILY, SPREAD_TABLE))
        if spreading and (seen is None or seen[0] != spread_marker(legs, active)):
            nft.run(spread_batch(legs, active))
            changed = True
        elif not spreading and seen is not None:
            nft.run([{"delete": {"table": {"family": FAMILY, "name": SPREAD_TABLE}}}])
            changed = True
    with host.netlink(namespace) as nl:
        changed = _sync_rules(nl, legs if spreading else ()) or changed
        return _sync_tables(nl, peer, legs if spreading else ()) or changed


def _sync_rules(nl: Netlink, legs: Sequence[Leg]) -> bool:
    wanted = {
        KernelRule(
            RULE_PRIORITY + leg.instance,
            mark_of(leg.instance),
            MASK,
            TABLE_BASE + leg.instance,
            PROTO_SPREAD,
        )
        for leg in legs
    }
    present = set(nl.rules(PROTO_SPREAD))
    for rule in present - wanted:
        nl.delete_rule(rule)
    for rule in wanted - present:
        nl.add_rule(rule)
    return present != wanted


def _sync_tables(nl: Netlink, peer: IPv4Address, legs: Sequence[Leg]) -> bool:
    """Instance i's table: the neighbour's chain routes through `peer`, bound to leg i."""
    through = [r for r in nl.routes(PROTO_CHAIN) if r.gateway == peer]
    by_instance = {leg.instance: leg for leg in legs}
    changed = False
    for instance in range(MAX_LEGS):
        table = TABLE_BASE + instance
        present = nl.table_routes(table)
        leg = by_instance.get(instance)
        want = {(r.destination, leg.index) for r in through} if leg is not None else set()
        for route in present:
            if (route.destination, route.oif) not in want or route.gateway != peer:
                nl.delete_route(route)
                changed = True
        have = {(r.destination, r.oif) for r in present if r.gateway == peer}
        for destination, oif in want - have:
            nl.replace_route(destination, PROTO_SPREAD, gateway=peer, oif=oif, table=table)
            changed = True
    return changed


def live_flows(host: Host, namespace: str, instance: int) -> int:
    """Conntrack entries in `namespace` marked for `instance` whose connection is not over
    (TCP not in TIME_WAIT or CLOSE; another protocol's until its entry times out)."""
    conntrack = host.kernel.open_conntrack(namespace)
    try:
        return conntrack.count_marked(mark_of(instance), MASK)
    finally:
        conntrack.close()
