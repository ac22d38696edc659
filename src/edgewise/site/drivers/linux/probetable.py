"""The probes' own nftables table in the WAN namespace (pure batch): the link probes are not
tracked by conntrack.

Probes are the WAN namespace's own packets, not a class's traffic: the steering table counts the
tracked flows leaving by each link per class (`ct direction original`, key 0 is default
traffic), so a tracked probe would count as default traffic of its link. They need no NAT either
(they leave with the link's own address) and need no conntrack entry to be answered. One
rule per probed link, at the raw priority of `output`: its mark, and an ICMP echo request or a
UDP datagram to its echo port.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from edgewise.site.drivers.linux.wanmarks import LINK_MARK_MASK
from edgewise.site.drivers.linux.wanplan import chain, rule, table_spec
from edgewise.site.health import LinkHealthSettings

PROBES_TABLE: Final = "ew_probes"
RAW_PRIORITY: Final = -300
Json = dict[str, Any]


def probes_batch(links: Sequence[LinkHealthSettings]) -> list[Json]:
    """The whole table in one transaction (made anew), or its removal when no link is probed."""
    table = table_spec(PROBES_TABLE)
    batch: list[Json] = [{"add": {"table": table}}, {"delete": {"table": table}}]
    if not links:
        return batch
    batch += [{"add": {"table": table}}, chain(PROBES_TABLE, "out", "output", RAW_PRIORITY)]
    for link in links:
        mark = _match({"&": [{"meta": {"key": "mark"}}, LINK_MARK_MASK]}, link.fwmark)
        if link.probe.protocol == "udp":
            kind = _match({"payload": {"protocol": "udp", "field": "dport"}}, link.probe.port)
        else:
            kind = _match({"payload": {"protocol": "icmp", "field": "type"}}, "echo-request")
        batch.append(rule(PROBES_TABLE, "out", [mark, kind, {"notrack": None}], link.name))
    return batch


def _match(left: Json, right: Any) -> Json:
    return {"match": {"op": "==", "left": left, "right": right}}
