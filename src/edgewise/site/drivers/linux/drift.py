"""What the drift watch reads (pure): inotify records, netlink messages, and when they mean drift.

`watch.DriftWatch` reads the kernel's notifications and feeds them here. A burst of the
driver's own work must not look like drift, so:
- a link counts when it was up with carrier and then goes down or away, not when it is new;
  in the LAN and WAN sides only its going counts (a leg that goes down there takes the carrier
  of its peer in a VNF, which is what observe checks; a bridge's carrier comes and goes with
  its ports);
  links the driver is about to delete (and the peers of the veths in a namespace it removes)
  are `expected` to go, and ignored;
- an nftables transaction counts when it deletes something of the Edgewise table without
  adding the table again (the driver replaces a ruleset as delete + add in one transaction);
  in the WAN side, of its links or steering table (map elements deleted are steering's moves).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from edgewise.site.drivers.linux.nftjson import TABLE
from edgewise.site.drivers.linux.rtcodec import (
    IFINFO,
    IFLA_IFNAME,
    attributes,
    ifinfo,
    message,
    text,
)

RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
IFF_UP = 0x1
IFF_LOWER_UP = 0x10000
NLM_F_REQUEST_DUMP = 0x1 | 0x300
NFNL_SUBSYS_NFTABLES = 10
NFGEN_HEADER = 4  # family, version, resource id
NFTA_TABLE = 1  # the table's name: attribute 1 of tables, chains, rules, sets, elements, objects
NFT_NEWTABLE = 0
NFT_NEWGEN = 15
NFT_DELETES = frozenset({2, 5, 8, 11, 14, 20, 24, 26, 27, 28, 29, 30, 31, 32})  # DEL*, DESTROY*
INOTIFY_EVENT = struct.Struct("=iIII")  # wd, mask, cookie, len
EXPECTED_FOR_S = 10.0


def inotify_records(data: bytes) -> Iterator[tuple[int, str]]:
    """(mask, name) of each inotify event in a read."""
    offset = 0
    while offset + INOTIFY_EVENT.size <= len(data):
        _, mask, _, length = INOTIFY_EVENT.unpack_from(data, offset)
        start = offset + INOTIFY_EVENT.size
        yield mask, text(data[start : start + length])
        offset = start + length


def link_request(sequence: int) -> bytes:
    """An RTM_GETLINK dump request (the watch seeds its link states with the answer)."""
    return message(RTM_GETLINK, NLM_F_REQUEST_DUMP, sequence, ifinfo())


@dataclass
class Expected:
    """Names of links the driver is deleting: their going is not drift (for a while)."""

    prefix: str
    until: dict[str, float] = field(default_factory=dict)

    def add(self, names: list[str], now: float | None = None) -> None:
        """Adds links, and the peer end of each veth named `<prefix><token>l|r`."""
        deadline = (time.monotonic() if now is None else now) + EXPECTED_FOR_S
        for name in names:
            self.until[name] = deadline
            if name.startswith(self.prefix) and name[-1:] in ("l", "r"):
                self.until[name[:-1] + ("r" if name[-1] == "l" else "l")] = deadline

    def __contains__(self, name: object) -> bool:
        return name in self.until

    def discard(self, name: str) -> None:
        """The link is gone: a new link of that name (a bridge made again) counts again."""
        self.until.pop(name, None)

    def expire(self, now: float | None = None) -> None:
        moment = time.monotonic() if now is None else now
        for name in [n for n, deadline in self.until.items() if deadline < moment]:
            del self.until[name]


@dataclass
class LinkStates:
    """Links of one namespace whose names start with the site's prefix: up with carrier or not."""

    namespace: str
    prefix: str
    vnf: bool = True  # in a VNF, a link going down counts too
    ok: dict[int, bool] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def feed(self, kind: int, payload: bytes, expected: Expected) -> str | None:
        """Drift described, for a link that was fine and went down or away; else None."""
        if kind not in (RTM_NEWLINK, RTM_DELLINK) or len(payload) < IFINFO.size:
            return None
        _, _, index, flags, _ = IFINFO.unpack_from(payload)
        name = next((text(v) for k, v in attributes(payload, IFINFO.size) if k == IFLA_IFNAME), "")
        if not name.startswith(self.prefix):
            return None
        was = self.ok.pop(index, None)
        self.names.pop(index, None)
        if kind == RTM_DELLINK:
            if name in expected:
                expected.discard(name)
                return None
            return f"link {name} gone in {self.namespace}" if was else None
        now = bool(flags & IFF_UP) and bool(flags & IFF_LOWER_UP)
        self.ok[index], self.names[index] = now, name
        if self.vnf and was and not now and name not in expected:
            return f"link {name} down in {self.namespace}"
        return None


NFT_DELSETELEM = 14


@dataclass
class NftTransactions:
    """nftables notifications of one namespace, judged per transaction (at NEWGEN): something of
    `tables` deleted (but for the `ignored` kinds) without the table added again. A VNF's table;
    the WAN side's links and steering tables, where an element deleted is the steering's own
    move (observe checks the elements)."""

    namespace: str
    deleted: bool = False
    tables: frozenset[str] = frozenset({TABLE})
    ignored: frozenset[int] = frozenset()

    def feed(self, kind: int, payload: bytes) -> str | None:
        if kind >> 8 != NFNL_SUBSYS_NFTABLES:
            return None
        message = kind & 0xFF
        if message == NFT_NEWGEN:
            deleted, self.deleted = self.deleted, False
            return f"ruleset changed in {self.namespace}" if deleted else None
        table = next(
            (text(v) for k, v in attributes(payload, NFGEN_HEADER) if k == NFTA_TABLE), None
        )
        if table not in self.tables:
            return None
        if message in NFT_DELETES and message not in self.ignored:
            self.deleted = True
        elif message == NFT_NEWTABLE:
            self.deleted = False  # the driver's delete + add: replaced, not removed
        return None
