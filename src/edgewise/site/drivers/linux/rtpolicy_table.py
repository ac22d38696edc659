"""The real-time policy table `ip ew_policy` of the WAN namespace as libnftables batches (pure),
and what its listing tells (counters, flagged sources, the limits in force).

    table ip ew_policy
      set o_<h>  per new_flows rule: sources flagged, each with its own timeout (a block's
                 for_s, else the rule's hold_s): the kernel expires them, controller or not
      set m_<h>  per new_flows rule: one new-flow meter per WAN source (idle ones expire)
      set l_<h>  per rate_limit-the-source rule: one byte meter per flagged source
      counter class.<name>  per class a rule reads the rate of, or limits
      chain info   marker: ew1 rtpolicy <digest> <rules>
      chain guard  prerouting, priority -180 (after conntrack, before steering and NAT):
                     block:       ip saddr @o_<h> counter drop
                     limit source: ip saddr @o_<h> add @l_<h> { ip saddr limit rate over R } drop
                     per new_flows rule: iifname { WAN links } ct state new
                       add @m_<h> { ip saddr limit rate over N/second }    (over the rate only:)
                       add @o_<h> { ip saddr timeout T } [drop, when it blocks]
      chain count  forward, priority -10: per class, leaving by a link: counter class.<name>
      chain limit  forward, priority 0: per class limited now: <class> limit rate over R drop
A rebuild (the rules changed) replaces the chains and the meters in one transaction and keeps
the flagged sources (a blocked source stays blocked); `limit` alone changes as rules trigger
and clear (`limits_batch`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from edgewise.model.rtpolicy import BLOCK, NEW_FLOWS, RATE_LIMIT, PolicyRule
from edgewise.model.steering import AppClass
from edgewise.site.drivers.linux.layout import TAG
from edgewise.site.drivers.linux.steering import class_match, match
from edgewise.site.drivers.linux.wanplan import FAMILY, chain, rule, table_spec

Json = dict[str, Any]
POLICY_TABLE: Final = "ew_policy"
INFO, GUARD, COUNT, LIMIT = "info", "guard", "count", "limit"
CHAINS: Final = (GUARD, COUNT, LIMIT)
SETS: Final = ("o_", "m_", "l_")
METER_IDLE_S: Final = 10  # a meter of a source quiet this long goes
MAX_SOURCES: Final = 65_536  # per set: a flood of spoofed sources fills it, no more
CLASS_COUNTER: Final = "class."
SADDR: Final = {"payload": {"protocol": "ip", "field": "saddr"}}
T = POLICY_TABLE


def tag(rule_name: str) -> str:
    """The short name of a rule's sets (nft names are short; rule names are not)."""
    return hashlib.sha256(rule_name.encode()).hexdigest()[:12]


def bytes_per_s(bps: int) -> int:
    return max(1, bps // 8)


def limit_over(bps: int) -> Json:
    """limit rate over `bps` bit/s, with a burst of a quarter second (at least 16 KB): what
    TCP needs to keep near the rate."""
    rate = bytes_per_s(bps)
    return {
        "limit": {
            "rate": rate,
            "rate_unit": "bytes",
            "per": "second",
            "burst": max(rate // 4, 16_384),
            "burst_unit": "bytes",
            "inv": True,
        }
    }


def _set(name: str, *, idle: int | None = None) -> Json:
    spec: Json = {
        "family": FAMILY,
        "table": T,
        "name": name,
        "type": "ipv4_addr",
        "flags": ["timeout"],
        "size": MAX_SOURCES,
    }
    if idle is not None:
        spec["timeout"] = idle
    return spec


def classes_used(rules: Sequence[PolicyRule]) -> list[str]:
    """The classes whose traffic the table counts (rates and limits), sorted."""
    return sorted(
        {r.when.class_name for r in rules if r.when.class_name is not None}
        | {r.then.class_name for r in rules if r.then.class_name is not None}
    )


def table_batch(
    rules: Sequence[PolicyRule],
    interfaces: Sequence[str],
    classes: Mapping[str, AppClass],
    digest: str,
    present: Sequence[str] = (),
) -> list[Json]:
    """The table for `rules` (WAN side: `interfaces`), replacing its chains, meters and
    counters; `present`: the sets and counters listed now (those no rule wants go)."""
    wanted_sets: list[Json] = []
    guard: list[Json] = []
    watch: list[Json] = []
    ifaces = sorted(interfaces)
    for found in rules:
        if found.when.kind != NEW_FLOWS or not ifaces:
            continue
        h = tag(found.name)
        then = found.then
        wanted_sets += [_set(f"o_{h}"), _set(f"m_{h}", idle=METER_IDLE_S)]
        if then.kind == BLOCK:
            guard.append(
                rule(
                    T,
                    GUARD,
                    [match(SADDR, f"@o_{h}"), {"counter": None}, {"drop": None}],
                    found.name,
                )
            )
        elif then.kind == RATE_LIMIT and then.rate is not None:
            wanted_sets.append(_set(f"l_{h}", idle=METER_IDLE_S))
            meter = {
                "set": {
                    "op": "add",
                    "elem": SADDR,
                    "set": f"@l_{h}",
                    "stmt": [limit_over(then.rate)],
                }
            }
            guard.append(
                rule(
                    T,
                    GUARD,
                    [match(SADDR, f"@o_{h}"), meter, {"counter": None}, {"drop": None}],
                    found.name,
                )
            )
        flows = found.when.flows_above or 1
        timeout = then.for_s if then.kind == BLOCK and then.for_s else max(1, found.hold_s)
        expr: list[Json] = [
            match({"meta": {"key": "iifname"}}, {"set": ifaces}),
            match({"ct": {"key": "state"}}, "new", "in"),
            {
                "set": {
                    "op": "add",
                    "elem": SADDR,
                    "set": f"@m_{h}",
                    "stmt": [
                        {"limit": {"rate": flows, "per": "second", "burst": flows, "inv": True}}
                    ],
                }
            },
            {
                "set": {
                    "op": "add",
                    "elem": {"elem": {"val": SADDR, "timeout": timeout}},
                    "set": f"@o_{h}",
                }
            },
        ]
        if then.kind == BLOCK:
            expr.append({"drop": None})
        watch.append(rule(T, GUARD, expr, found.name))
    counted = [name for name in classes_used(rules) if name in classes]
    counters = [f"{CLASS_COUNTER}{name}" for name in counted]
    count = [
        rule(
            T,
            COUNT,
            [
                match({"meta": {"key": "iifname"}}, {"set": ifaces}, "!="),
                *class_match(classes[name]),
                {"counter": f"{CLASS_COUNTER}{name}"},
            ],
        )
        for name in counted
    ]
    if not ifaces:
        count = [
            rule(T, COUNT, [*class_match(classes[n]), {"counter": f"{CLASS_COUNTER}{n}"}])
            for n in counted
        ]
    body = guard + watch + count
    marker = rule(T, INFO, [{"counter": None}], f"{TAG} rtpolicy {digest} {len(body) + 1}")
    batch: list[Json] = [
        {"add": {"table": table_spec(T)}},
        chain(T, INFO),
        chain(T, GUARD, "prerouting", -180),
        chain(T, COUNT, "forward", -10),
        chain(T, LIMIT, "forward", 0),
    ]
    batch += [
        {"flush": {"chain": {"family": FAMILY, "table": T, "name": n}}} for n in (INFO, *CHAINS)
    ]
    names = {s["name"] for s in wanted_sets}
    for name in present:
        if name.startswith(SETS) and name not in names:
            batch.append({"delete": {"set": {"family": FAMILY, "table": T, "name": name}}})
        elif name.startswith(CLASS_COUNTER) and name not in counters:
            batch.append({"delete": {"counter": {"family": FAMILY, "table": T, "name": name}}})
    # a set there already is kept as it is (the kernel marked it dynamic; adding it again
    # with other flags would fail, and its elements are the blocks in force)
    batch += [{"add": {"set": spec}} for spec in wanted_sets if spec["name"] not in present]
    batch += [
        {"flush": {"set": {"family": FAMILY, "table": T, "name": s["name"]}}}
        for s in wanted_sets
        if s["name"][:2] in ("m_", "l_")
    ]
    batch += [{"add": {"counter": {"family": FAMILY, "table": T, "name": c}}} for c in counters]
    return [*batch, marker, *body]


def limits_batch(
    limits: Mapping[str, tuple[str, int]],
    classes: Mapping[str, AppClass],
    interfaces: Sequence[str],
) -> list[Json]:
    """The `limit` chain holding exactly `limits` (per rule name: class, bit/s)."""
    batch: list[Json] = [{"flush": {"chain": {"family": FAMILY, "table": T, "name": LIMIT}}}]
    ifaces = sorted(interfaces)
    for name, (class_name, bps) in sorted(limits.items()):
        cls = classes.get(class_name)
        if cls is None:
            continue
        side = [match({"meta": {"key": "iifname"}}, {"set": ifaces}, "!=")] if ifaces else []
        batch.append(
            rule(
                T,
                LIMIT,
                [*side, *class_match(cls), limit_over(bps), {"counter": None}, {"drop": None}],
                name,
            )
        )
    return batch


def remove_batch() -> list[Json]:
    return [{"delete": {"table": table_spec(T)}}]


@dataclass(frozen=True)
class PolicyView:
    """The table as listed: the digest it was built for ("" when its marker is gone or rules
    are missing), bytes per class, flagged sources per set, the limits in force (rule names),
    the sets and counters present, and packets dropped per rule."""

    digest: str = ""
    class_bytes: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, frozenset[str]] = field(default_factory=dict)
    limits: frozenset[str] = frozenset()
    present: tuple[str, ...] = ()
    dropped: dict[str, int] = field(default_factory=dict)


def read_table(items: Sequence[Json]) -> PolicyView:
    rules = [i["rule"] for i in items if isinstance(i.get("rule"), dict)]
    built = [r for r in rules if r.get("chain") != LIMIT]
    digest = ""
    for found in built:
        words = str(found.get("comment", "")).split()
        if len(words) == 4 and words[:2] == [TAG, "rtpolicy"] and words[3] == str(len(built)):
            digest = words[2]
    class_bytes: dict[str, int] = {}
    flagged: dict[str, frozenset[str]] = {}
    present: list[str] = []
    for item in items:
        counter, found_set = item.get("counter"), item.get("set")
        if isinstance(counter, dict) and str(counter.get("name", "")).startswith(CLASS_COUNTER):
            present.append(str(counter["name"]))
            class_bytes[str(counter["name"])[len(CLASS_COUNTER) :]] = int(counter.get("bytes", 0))
        if isinstance(found_set, dict) and str(found_set.get("name", "")).startswith(SETS):
            name = str(found_set["name"])
            present.append(name)
            if name.startswith("o_"):
                flagged[name[2:]] = frozenset(_elements(found_set.get("elem", [])))
    limits = frozenset(str(r.get("comment")) for r in rules if r.get("chain") == LIMIT)
    dropped: dict[str, int] = {}
    for found in rules:
        if found.get("chain") in (GUARD, LIMIT) and found.get("comment"):
            for expr in found.get("expr", []):
                if isinstance(expr, dict) and isinstance(expr.get("counter"), dict):
                    name = str(found["comment"])
                    dropped[name] = dropped.get(name, 0) + int(expr["counter"].get("packets", 0))
    return PolicyView(digest, class_bytes, flagged, limits, tuple(present), dropped)


def _elements(elements: object) -> list[str]:
    found: list[str] = []
    for element in elements if isinstance(elements, list) else []:
        if isinstance(element, str):
            found.append(element)
        elif isinstance(element, dict) and isinstance(element.get("elem"), dict):
            found.append(str(element["elem"].get("val")))
    return found
