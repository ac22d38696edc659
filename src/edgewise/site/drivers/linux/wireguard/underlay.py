"""The routing rules that put the overlay's routes before the WAN links' tables (namespace
worker thread, inside the namespace): what `OverlayEngine.underlay` sets.

    pref P     fwmark 0/<mark>  lookup <table>                      the peers' prefixes first
    pref P+1   iif <device>     lookup main suppress_prefixlength 0 per device: what comes out
                                                                    of a tunnel goes to the LAN
WireGuard's own UDP carries <mark>, so it skips the first and leaves by its link's rule. The
steering table marks what comes out of a tunnel too (its default link), so without the second
rule it would go back out of a WAN link. Every rule carries PROTO_UNDERLAY: a pass removes
the ones it put there before and wants no more, and nothing else.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from pyroute2.netlink.rtnl import RTM_DELRULE, RTM_GETRULE, RTM_NEWRULE  # type: ignore[import-untyped]

from edgewise.site.drivers.linux import rtcodec as rt
from edgewise.site.drivers.linux.netlink import (
    NLM_F_CREATE,
    NLM_F_EXCL,
    RtnlNetlink,
    netlink_errors,
)

PROTO_UNDERLAY = 192
FRA_IIFNAME = 3
FRA_SUPPRESS_PREFIXLEN = 14
MAIN_TABLE = 254


@dataclass(frozen=True)
class Underlay:
    """The overlay's rules in one namespace: `table` for packets without `mark` at `priority`,
    and the main table (no default) for what comes out of each of `devices`."""

    table: int
    mark: int
    priority: int
    devices: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnderlayRule:
    priority: int
    table: int
    fwmark: int | None = None
    fwmask: int | None = None
    iif: str | None = None
    suppress_prefixlen: int | None = None


def rules_of(underlay: Underlay | None) -> set[UnderlayRule]:
    if underlay is None:
        return set()
    found = {UnderlayRule(underlay.priority, underlay.table, 0, underlay.mark)}
    found |= {UnderlayRule(underlay.priority + 1, MAIN_TABLE, iif=d, suppress_prefixlen=0)
              for d in underlay.devices}  # fmt: skip
    return found


def _body(rule: UnderlayRule) -> bytes:
    body = rt.RTMSG.pack(socket.AF_INET, 0, 0, 0, rule.table if rule.table < 256 else 0, 0, 0,
                         rt.FR_ACT_TO_TBL, 0)  # fmt: skip
    body += rt.attr_u32(rt.FRA_TABLE, rule.table) + rt.attr_u32(rt.FRA_PRIORITY, rule.priority)
    if rule.fwmark is not None and rule.fwmask is not None:
        body += rt.attr_u32(rt.FRA_FWMARK, rule.fwmark) + rt.attr_u32(rt.FRA_FWMASK, rule.fwmask)
    if rule.iif is not None:
        body += rt.attr_str(FRA_IIFNAME, rule.iif)
    if rule.suppress_prefixlen is not None:
        body += rt.attr_u32(FRA_SUPPRESS_PREFIXLEN, rule.suppress_prefixlen)
    return body + rt.attr(rt.FRA_PROTOCOL, bytes([PROTO_UNDERLAY]))


def _decode(payload: bytes) -> UnderlayRule | None:
    table = rt.RTMSG.unpack_from(payload)[4]
    found = dict(rt.attributes(payload, rt.RTMSG.size))
    proto = found[rt.FRA_PROTOCOL][0] if rt.FRA_PROTOCOL in found else 0
    if proto != PROTO_UNDERLAY:
        return None
    marked = rt.FRA_FWMARK in found or rt.FRA_FWMASK in found  # a 0 mark comes without its own
    mark = rt.u32(found[rt.FRA_FWMARK]) if rt.FRA_FWMARK in found else 0
    mask = rt.u32(found[rt.FRA_FWMASK]) if rt.FRA_FWMASK in found else 0xFFFFFFFF
    suppress = rt.u32(found[FRA_SUPPRESS_PREFIXLEN]) if FRA_SUPPRESS_PREFIXLEN in found else None
    return UnderlayRule(
        rt.u32(found[rt.FRA_PRIORITY]) if rt.FRA_PRIORITY in found else 0,
        rt.u32(found[rt.FRA_TABLE]) if rt.FRA_TABLE in found else table,
        mark if marked else None,
        mask if marked else None,
        rt.text(found[FRA_IIFNAME]) if FRA_IIFNAME in found else None,
        None if suppress in (None, 0xFFFFFFFF) else suppress,
    )


def present(net: RtnlNetlink) -> set[UnderlayRule]:
    with netlink_errors(f"listing rules in {net.where}"):
        found = (_decode(p) for p in net.rtnl.dump(RTM_GETRULE, rt.rtmsg(0, 0, 0, 0, 0)))
        return {rule for rule in found if rule is not None}


def sync_rules(net: RtnlNetlink, underlay: Underlay | None) -> bool:
    """Makes the overlay's rules in `net` those of `underlay` (None: none); True if any changed."""
    have, want = present(net), rules_of(underlay)
    for rule in have - want:
        with netlink_errors(f"removing overlay rule pref {rule.priority} in {net.where}",
                            errno.ENOENT):  # fmt: skip
            net.rtnl.change(RTM_DELRULE, _body(rule))
    for rule in want - have:
        with netlink_errors(f"adding overlay rule pref {rule.priority} in {net.where}",
                            errno.EEXIST):  # fmt: skip
            net.rtnl.change(RTM_NEWRULE, _body(rule), NLM_F_CREATE | NLM_F_EXCL)
    return have != want
