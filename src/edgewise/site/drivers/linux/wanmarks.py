"""Marks, routing tables and labels of the site's WAN links (pure): the ONE place that says
which packet mark and which routing table stand for which link.

A link holds a slot 1..MAX_LINKS, recorded in its interface's alias (`["ew1", "wan", name,
slot, gateway]`) so that a restarted driver adopts it. Slot s gives:
- the link mark `LINK_MARK_BASE + s` (0xe701..0xe708), in the LOW 16 BITS of a packet's mark
  (`LINK_MARK_MASK`); whoever pins a packet to a link (the probes: SO_MARK) sets exactly that;
- the routing table of the same number (59137..59144), with the link's default route and an
  `unreachable default` at UNREACHABLE_METRIC, so nothing meant for a dead link leaks out of
  another;
- the rule `fwmark <mark>/0xffff lookup <table>` at priority RULE_PRIORITY_BASE + s.
The conntrack mark of a steered flow holds its steering key in its low 16 bits (policy id << 4
| spread bucket; 0: default traffic); the DPI classifier writes the application id in
0x00FF0000 (`DPI_MASK`) and its "decided" bit 0x01000000 (`DPI_DONE`), never the low 16 bits;
the steering table maps the key to a link mark on every packet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Final

from edgewise.model.links import MAX_LINKS, WanLink
from edgewise.site.drivers.linux.kernel import KernelRule
from edgewise.site.drivers.linux.layout import TAG

PROTO_WAN: Final = 190  # route and rule protocol of what the WAN links own
LINK_MARK_BASE: Final = 0xE700
LINK_MARK_MASK: Final = 0xFFFF
RULE_PRIORITY_BASE: Final = 10_000
UNREACHABLE_METRIC: Final = 65_535
KEY_MASK: Final = 0xFFFF  # of the ct mark: the steering key
CLASS_MASK: Final = 0xFFF0  # of the key: the policy (its id << 4); the low 4 bits: the bucket
DPI_MASK: Final = 0x00FF0000  # of the ct mark: the application id (the DPI classifier's)
DPI_DONE: Final = 0x01000000  # of the ct mark: the DPI classifier decided the flow
BUCKETS: Final = 8  # flows of a spread policy are hashed into this many buckets


def link_mark(slot: int) -> int:
    """The packet mark (low 16 bits) that sends a packet out of the link in `slot`."""
    if not 1 <= slot <= MAX_LINKS:
        raise ValueError(f"link slot {slot} is outside 1..{MAX_LINKS}")
    return LINK_MARK_BASE + slot


def link_table(slot: int) -> int:
    """The routing table of the link in `slot` (the same number as its mark)."""
    return link_mark(slot)


def slot_of_mark(mark: int) -> int | None:
    slot = (mark & LINK_MARK_MASK) - LINK_MARK_BASE
    return slot if 1 <= slot <= MAX_LINKS else None


def link_rule(slot: int) -> KernelRule:
    mark = link_mark(slot)
    return KernelRule(RULE_PRIORITY_BASE + slot, mark, LINK_MARK_MASK, link_table(slot), PROTO_WAN)


def policy_mark(index: int) -> int:
    """The steering key of policy `index` (0-based; its bucket 0)."""
    return (index + 1) << 4


@dataclass(frozen=True)
class WanLabel:
    """What the alias of a link's interface records: its link, slot and the gateway in use."""

    name: str
    slot: int
    gateway: IPv4Address | None

    def encode(self) -> str:
        gateway = "" if self.gateway is None else str(self.gateway)
        return json.dumps([TAG, "wan", self.name, self.slot, gateway])


def decode_wan_label(alias: str | None) -> WanLabel | None:
    try:
        value = json.loads(alias or "")
    except ValueError:
        return None
    if not (isinstance(value, list) and len(value) == 5 and value[:2] == [TAG, "wan"]):
        return None
    name, slot, gateway = value[2:]
    if not isinstance(name, str) or not isinstance(slot, int) or not 1 <= slot <= MAX_LINKS:
        return None
    try:
        return WanLabel(name, slot, IPv4Address(gateway) if gateway else None)
    except ValueError:
        return None


def assign_slots(links: Sequence[WanLink], recorded: Mapping[str, int]) -> dict[str, int]:
    """A slot per link: the one recorded for it when free, else the lowest free one."""
    slots: dict[str, int] = {}
    taken: set[int] = set()
    for link in links:
        slot = recorded.get(link.name)
        if slot is not None and slot not in taken:
            slots[link.name] = slot
            taken.add(slot)
    for link in links:
        if link.name not in slots:
            slot = next(s for s in range(1, MAX_LINKS + 1) if s not in taken)
            slots[link.name] = slot
            taken.add(slot)
    return slots
