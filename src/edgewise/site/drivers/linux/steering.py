"""The steering table `ip ew_steer` as one libnftables batch (pure), its map elements from a
decision, and its counters read back.

    table ip ew_steer
      map route  { type mark : mark }            steering key -> link mark (the decision)
      map count  { type mark . ifname : counter } policy key . out interface -> counter
      counter "<policy key>/<link>" ...          one per policy (and @default) and link
      chain info      marker: ew1 steering <digest> <rules>
      chain pre       prerouting, mangle priority:
                        iifname { <link interfaces> } return     (replies, inbound: untouched)
                        ct state new jump classify
                        ct mark & 0xffff == 0, ct mark & 0xff0000 != 0 jump dpi
                        meta mark set ct mark & 0xffff map @route
      chain classify  a rule per policy in order, first match: [ip saddr <tenant's sources>]
                        <protocol, ports, prefixes, dscp> [ct mark & 0xff0000 { <its apps> }]
                        ct mark set <key> (or, spread: jhash of the flow mod 8 offset <key>)
                        return — a layer-7 class matches a NEW flow whose application the
                        application cache (dpi/cache.py) put in its ct mark at its first packet
      chain dpi       flows the classifier named after their first packet (default traffic
                        until then): per layer-7 policy in order, ct mark & 0x1ff0000
                        { <DONE | its apps> } ct mark set ct mark | <key> | PINNED: counted
                        under the class, kept on the link they started on (PINNED keys map to
                        default traffic's link: moving a flow would change its source NAT)
      chain post      postrouting: ct direction original, fib saddr type != local (what the
                        chains send, not the WAN namespace's own probes and tunnels) counter
                        name (ct mark & 0xfff0) . oifname map @count
A decision changes only `route`'s elements: `elements_batch` deletes and adds the keys that
move, in one transaction; the ruleset stays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from ipaddress import IPv4Network
from typing import Any, Final

from edgewise.model.steering import AppClass, Steering, SteeringPolicy
from edgewise.site.drivers.linux.l7classes import layer7
from edgewise.site.drivers.linux.wanmarks import (
    BUCKETS,
    CLASS_MASK,
    DPI_DONE,
    DPI_MASK,
    KEY_MASK,
    policy_mark,
)
from edgewise.site.drivers.linux.wanplan import FAMILY, LinkPlan, chain, marked, rule
from edgewise.site.sdwan.decide import DEFAULT, Decision, policy_key

Json = dict[str, Any]
STEER_TABLE: Final = "ew_steer"
ROUTE_MAP: Final = "route"
COUNT_MAP: Final = "count"
WAITS_FOR_DPI: Final = "layer-7 classes wait for the DPI classifier"
CT_MARK: Final = {"ct": {"key": "mark"}}
APP_SHIFT: Final = 16
PINNED: Final = BUCKETS  # key bit (0x8, above the buckets): identified late, kept on its link
BUCKET_MASK: Final = BUCKETS - 1
ABOVE_KEY: Final = 0xFFFFFFFF & ~KEY_MASK  # what setting a key keeps of the ct mark


def match(left: Json, right: Any, op: str = "==") -> Json:
    return {"match": {"op": op, "left": left, "right": right}}


def prefixes(values: Sequence[IPv4Network]) -> Json:
    return {"set": [{"prefix": {"addr": str(p.network_address), "len": p.prefixlen}}
                    for p in values]}  # fmt: skip


def class_match(cls: AppClass) -> list[Json]:
    """The layer 3/4 matches of a class (none for a class by layer 7 alone)."""
    found: list[Json] = []
    if cls.protocol != "any":
        found.append(match({"meta": {"key": "l4proto"}}, cls.protocol))
    if cls.ports or cls.port_ranges:
        dport = {"payload": {"protocol": cls.protocol, "field": "dport"}}
        ranges: list[Json] = [{"range": list(r)} for r in sorted(cls.port_ranges)]
        found.append(match(dport, {"set": [*sorted(cls.ports), *ranges]}))
    if cls.prefixes:
        found.append(match({"payload": {"protocol": "ip", "field": "daddr"}},
                           prefixes(cls.prefixes)))  # fmt: skip
    if cls.dscp is not None:
        found.append(match({"payload": {"protocol": "ip", "field": "dscp"}}, cls.dscp))
    return found


def flow_hash(cls: AppClass, offset: int) -> Json:
    """jhash of the flow (addresses, protocol, and ports when the class has them) into
    BUCKETS keys from `offset`."""
    fields: list[Json] = [{"payload": {"protocol": "ip", "field": "saddr"}},
                          {"payload": {"protocol": "ip", "field": "daddr"}},
                          {"meta": {"key": "l4proto"}}]  # fmt: skip
    if cls.protocol in ("tcp", "udp"):  # every class with ports or port_ranges
        fields += [{"payload": {"protocol": cls.protocol, "field": f}} for f in ("sport", "dport")]
    return {"jhash": {"mod": BUCKETS, "offset": offset, "expr": {"concat": fields}}}


def app_match(ids: frozenset[int], done: int) -> Json:
    """The ct mark carries one of the applications `ids` (with `done`: DPI decided it)."""
    mask = DPI_MASK | DPI_DONE if done else DPI_MASK
    return match({"&": [CT_MARK, mask]}, {"set": [done | i << APP_SHIFT for i in sorted(ids)]})


def set_key(key: int) -> Json:
    """ct mark set ct mark & 0xffff0000 | key: the application bits stay."""
    return {"mangle": {"key": CT_MARK, "value": {"|": [{"&": [CT_MARK, ABOVE_KEY]}, key]}}}


def policy_rule(
    index: int,
    policy: SteeringPolicy,
    cls: AppClass,
    sources: Sequence[IPv4Network] | None,
    apps: frozenset[int] | None = None,
    *,
    late: bool = False,
) -> Json | None:
    """The rule of a policy in `classify` (a NEW flow), or with `late` in `dpi` (a flow the
    classifier named after its first packet; layer-7 classes only). `apps`: the application
    ids of a layer-7 class (none left: no rule)."""
    matches = class_match(cls)
    if (policy.tenant is not None and not sources) or (cls.needs_dpi and not apps):
        return None
    if sources:
        matches = [match({"payload": {"protocol": "ip", "field": "saddr"}}, prefixes(sources)),
                   *matches]  # fmt: skip
    key = policy_mark(index)
    if apps:
        matches.append(app_match(apps, DPI_DONE if late else 0))
    value: Any = flow_hash(cls, key) if policy.spread else key
    if late:
        statement = set_key(key | PINNED)
    elif apps and not policy.spread:
        statement = set_key(key)
    else:
        statement = {"mangle": {"key": CT_MARK, "value": value}}
    expr = [*matches, statement, {"return": None}]
    return rule(STEER_TABLE, "dpi" if late else "classify", expr, policy_key(policy))


def route_elements(
    steering: Steering, plans: Mapping[str, LinkPlan], decision: Decision
) -> dict[int, int]:
    """The `route` map: steering key -> link mark, for every key whose route has links."""
    found: dict[int, int] = {}
    default = decision.links(DEFAULT)
    if default and default[0] in plans:
        found[0] = plans[default[0]].mark
    for index, policy in enumerate(steering.policies):
        links = [plans[n].mark for n in decision.links(policy_key(policy)) if n in plans]
        if not links:
            continue
        key = policy_mark(index)
        buckets = range(BUCKETS) if policy.spread else range(1)
        for bucket in buckets:
            found[key + bucket] = links[bucket % len(links)]
        cls = steering.class_(policy.class_name)
        if cls is not None and cls.needs_dpi and 0 in found:
            found[key | PINNED] = found[0]  # named late: stays with default traffic
    return found


COUNTER_PREFIX: Final = "c."  # (a name starting with @ would read as a set's in a map)


def counter_name(key: str, link: str) -> str:
    return f"{COUNTER_PREFIX}{key}/{link}"


def steering_batch(
    steering: Steering,
    plans: Mapping[str, LinkPlan],
    sources: Mapping[str, Sequence[IPv4Network]],
    elements: Mapping[int, int],
    digest: str,
) -> list[Json]:
    """The whole steering table for `steering` over the links `plans` (by link name), tenant
    sources by tenant, and the decision's `elements` (route_elements)."""
    t = STEER_TABLE
    keys = [(0, DEFAULT)] + [(policy_mark(i), policy_key(p))
                             for i, p in enumerate(steering.policies)]  # fmt: skip
    body: list[Json] = []
    count: list[Any] = []
    for value, key in keys:
        for name, plan in plans.items():
            counter = counter_name(key, name)
            body.append({"add": {"counter": {"family": FAMILY, "table": t, "name": counter}}})
            count.append([{"concat": [value, plan.link.interface]}, counter])
    route: Json = {"family": FAMILY, "table": t, "name": ROUTE_MAP, "type": "mark", "map": "mark"}
    if elements:
        route["elem"] = [[k, v] for k, v in sorted(elements.items())]
    counts: Json = {"family": FAMILY, "table": t, "name": COUNT_MAP, "type": ["mark", "ifname"],
              "map": "counter"}  # fmt: skip
    if count:
        counts["elem"] = count
    body += [{"add": {"map": route}}, {"add": {"map": counts}}]
    body += [chain(t, "pre", "prerouting", -150), chain(t, "classify"), chain(t, "dpi"),
             chain(t, "post", "postrouting", 0)]  # fmt: skip
    interfaces = sorted(plan.link.interface for plan in plans.values())
    if interfaces:
        body.append(rule(t, "pre", [match({"meta": {"key": "iifname"}}, {"set": interfaces}),
                                    {"return": None}]))  # fmt: skip
    key_of = {"&": [CT_MARK, KEY_MASK]}
    body += [
        rule(t, "pre", [match({"ct": {"key": "state"}}, "new", "in"),
                        {"jump": {"target": "classify"}}]),
        rule(t, "pre", [match(key_of, 0), match({"&": [CT_MARK, DPI_MASK]}, 0, "!="),
                        {"jump": {"target": "dpi"}}]),
        rule(t, "pre", [{"mangle": {"key": {"meta": {"key": "mark"}},
                                    "value": {"map": {"key": key_of, "data": f"@{ROUTE_MAP}"}}}}]),
        rule(t, "post", [match({"ct": {"key": "direction"}}, "original"),
                         match({"fib": {"result": "type", "flags": ["saddr"]}}, "local", "!="),
                         {"counter": {"map": {"key": {"concat": [{"&": [CT_MARK, CLASS_MASK]},
                                                                 {"meta": {"key": "oifname"}}]},
                                              "data": f"@{COUNT_MAP}"}}}]),
    ]  # fmt: skip
    ids = layer7(steering).ids
    late: list[Json] = []
    for index, policy in enumerate(steering.policies):
        cls = steering.class_(policy.class_name)
        if cls is None:
            continue
        scoped = sources.get(policy.tenant) if policy.tenant is not None else None
        apps = ids.get(cls.name)
        made = policy_rule(index, policy, cls, scoped, apps)
        if made is not None:
            body.append(made)
        if apps:
            pinned = policy_rule(index, policy, cls, scoped, apps, late=True)
            late += [] if pinned is None else [pinned]
    return marked(t, "steering", digest, body + late)


def elements_batch(old: Mapping[int, int], new: Mapping[int, int]) -> list[Json]:
    """The one transaction that turns `route`'s elements `old` into `new`."""
    gone = [k for k in sorted(old) if old[k] != new.get(k)]
    moved = [[k, new[k]] for k in sorted(new) if old.get(k) != new[k]]
    spec = {"family": FAMILY, "table": STEER_TABLE, "name": ROUTE_MAP}
    batch: list[Json] = []
    if gone:
        batch.append({"delete": {"element": {**spec, "elem": gone}}})
    if moved:
        batch.append({"add": {"element": {**spec, "elem": moved}}})
    return batch


def read_elements(items: Sequence[Json]) -> dict[int, int]:
    for item in items:
        found = item.get("map")
        if isinstance(found, dict) and found.get("name") == ROUTE_MAP:
            return {int(k): int(v) for k, v in found.get("elem", [])}
    return {}


def class_counters(items: Sequence[Json]) -> dict[str, dict[str, dict[str, int]]]:
    """Packets and bytes per policy key, per link, of the flows from the chains."""
    found: dict[str, dict[str, dict[str, int]]] = {}
    for item in items:
        counter = item.get("counter")
        name = str(counter.get("name", "")) if isinstance(counter, dict) else ""
        if not name.startswith(COUNTER_PREFIX) or "/" not in name:
            continue
        assert isinstance(counter, dict)
        key, link = name[len(COUNTER_PREFIX) :].rsplit("/", 1)
        found.setdefault(key, {})[link] = {"packets": int(counter.get("packets", 0)),
                                           "bytes": int(counter.get("bytes", 0))}  # fmt: skip
    return found


def waiting_for_dpi(steering: Steering) -> bool:
    return any(c.needs_dpi for c in steering.classes)
