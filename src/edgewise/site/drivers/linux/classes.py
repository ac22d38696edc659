"""The classifier VNF's nftables rules (pure): a conntrack mark per application class, counted.

The first packet of a flow (ct mark 0) goes through the `assign` chain: the first class whose
protocol, destination ports, DSCP and prefixes (source or destination) match sets the flow's
ct mark to the class's number (1-based, in config order); no match sets `UNCLASSIFIED`. Every
packet then has its meta mark set from the ct mark (for steering in this namespace) and is
counted in its class's named counter `class-<name>`. Marks are numbered anew at a config
change: flows already marked keep their number until they end.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from edgewise.model.functions import ClassifierConfig, TrafficClass
from edgewise.site.drivers.linux.nftjson import (
    FAMILY,
    TABLE,
    Json,
    chain,
    match,
    meta,
    prefix,
    rule,
)

UNCLASSIFIED = 0xFF
UNCLASSIFIED_NAME = "unclassified"
COUNTER_PREFIX = "class-"
SAFE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,48}$")
CT_MARK: Json = {"ct": {"key": "mark"}}


def counter_name(class_name: str) -> str:
    safe = class_name if SAFE_RE.match(class_name) else "x" + _digest(class_name)
    return COUNTER_PREFIX + safe


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def class_names(config: ClassifierConfig) -> list[str]:
    return [c.name for c in config.classes] + [UNCLASSIFIED_NAME]


def classifier(config: ClassifierConfig) -> list[Json]:
    if len(config.classes) >= UNCLASSIFIED:
        raise ValueError(f"at most {UNCLASSIFIED - 1} classes")
    batch: list[Json] = [
        chain("classify", hook="forward", priority=-150),
        chain("assign"),
    ]
    batch += [
        {"add": {"counter": {"family": FAMILY, "table": TABLE, "name": counter_name(name)}}}
        for name in class_names(config)
    ]
    batch.append(rule("classify", [match(CT_MARK, 0), {"jump": {"target": "assign"}}]))
    marks = [*range(1, len(config.classes) + 1), UNCLASSIFIED]
    for mark, name in zip(marks, class_names(config), strict=True):
        expr = [
            match(CT_MARK, mark),
            {"counter": counter_name(name)},
            {"mangle": {"key": meta("mark"), "value": CT_MARK}},
        ]
        batch.append(rule("classify", expr))
    for mark, traffic_class in enumerate(config.classes, start=1):
        for expr in class_matches(traffic_class):
            set_mark = {"mangle": {"key": CT_MARK, "value": mark}}
            batch.append(rule("assign", [*expr, set_mark, {"return": None}]))
    batch.append(rule("assign", [{"mangle": {"key": CT_MARK, "value": UNCLASSIFIED}}]))
    return batch


def class_matches(traffic_class: TrafficClass) -> list[list[Json]]:
    """The match expressions of a class: one list per rule (a prefix may be either end)."""
    common: list[Json] = [match(meta("nfproto"), "ipv4")]
    protocol = traffic_class.protocol
    if protocol and protocol != "any":
        common.append(match(meta("l4proto"), protocol))
    if traffic_class.ports and protocol in ("tcp", "udp"):
        ports: Any = {"set": list(traffic_class.ports)}
        common.append(match({"payload": {"protocol": protocol, "field": "dport"}}, ports))
    if traffic_class.dscp is not None:
        common.append(match({"payload": {"protocol": "ip", "field": "dscp"}}, traffic_class.dscp))
    if not traffic_class.prefixes:
        return [common]
    nets: Any = {"set": [prefix(p) for p in traffic_class.prefixes]}
    return [
        [*common, match({"payload": {"protocol": "ip", "field": end}}, nets)]
        for end in ("daddr", "saddr")
    ]
