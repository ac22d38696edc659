"""What a VNF counts, as the JSON-able mapping `observe()` reports on each VNF (pure).

Shape (only the keys of the VNF's function are present; numbers since the ruleset was loaded):

    {"rules":   {"rule-0": {"packets": 12, "bytes": 960}, ..., "default-outbound": {...},
                 "default-inbound": {...}},                                   # firewall
     "nat":     {"source-nat": {...}, "forward-0": {...}},                    # nat
     "classes": {"web": {"packets": 40, "bytes": 5120}, ..., "unclassified": {...}}, # classifier
     "queues":  {"lan": {"packets": 9, "bytes": 1200, "drops": 0}, "wan": {...}}}  # rate-limiter

`rule-<i>` / `forward-<i>` is the i-th rule / port forward of the VNF's config (0-based).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from edgewise.site.drivers.linux.classes import COUNTER_PREFIX
from edgewise.site.drivers.linux.nftjson import Json
from edgewise.site.drivers.linux.rulesets import rule_counters

Counts = dict[str, dict[str, int]]


def vnf_counters(function: str, items: list[Json]) -> dict[str, Any]:
    """The counters of a VNF's listed table, under the key of its function."""
    if function == "firewall":
        return {"rules": _counts(rule_counters(items).items())}
    if function == "nat":
        return {"nat": _counts(rule_counters(items).items())}
    if function == "classifier":
        return {"classes": _counts(named_counters(items).items())}
    return {}


def named_counters(items: list[Json]) -> dict[str, tuple[int, int]]:
    """(packets, bytes) of the classifier's named counters, by class name."""
    found: dict[str, tuple[int, int]] = {}
    for item in items:
        counter = item.get("counter")
        if isinstance(counter, dict) and str(counter.get("name", "")).startswith(COUNTER_PREFIX):
            name = str(counter["name"])[len(COUNTER_PREFIX) :]
            found[name] = (int(counter.get("packets", 0)), int(counter.get("bytes", 0)))
    return found


def _counts(pairs: Iterable[tuple[str, tuple[int, int]]]) -> Counts:
    return {name: {"packets": packets, "bytes": size} for name, (packets, size) in pairs}
