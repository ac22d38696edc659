"""Rate limiting of a rate-limiter VNF (worker thread): a tc token bucket on each leg's egress.

`egress_bps` shapes the traffic leaving the site (LAN -> WAN) where it leaves the VNF by its WAN
leg; `ingress_bps` shapes the traffic entering the site (WAN -> LAN) where it leaves by its LAN
leg. `burst_bytes` is the bucket (default: 10 ms at the rate, at least 32 KiB); the queue holds
50 ms at the rate. A config change replaces the qdiscs in place (`tc qdisc replace`). Our root
qdiscs have handle `SHAPER_HANDLE`: that is how `observe` tells them from the kernel's default.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgewise.model.functions import RateLimiterConfig
from edgewise.site.drivers.linux.kernel import Netlink, Qdisc
from edgewise.site.drivers.linux.layout import GROUP_LAN, GROUP_WAN
from edgewise.site.drivers.linux.rtcodec import Link

SHAPER_HANDLE = 0xE1E0000  # major e1e (ew), minor 0
MIN_BURST = 32 * 1024
LATENCY_MS = 50
LEG_NAMES = {GROUP_LAN: "lan", GROUP_WAN: "wan"}


@dataclass(frozen=True)
class Bucket:
    rate_bps: int
    burst_bytes: int


def buckets(config: RateLimiterConfig) -> dict[int, Bucket]:
    """The token bucket each leg (by interface group) needs on its egress."""
    wanted = {GROUP_WAN: config.egress_bps, GROUP_LAN: config.ingress_bps}
    return {
        group: Bucket(rate, config.burst_bytes or max(MIN_BURST, rate // 800))
        for group, rate in wanted.items()
        if rate
    }


def shaped_groups(config: RateLimiterConfig) -> list[int]:
    return sorted(buckets(config))


def apply_shaping(nl: Netlink, config: RateLimiterConfig, *, replace: bool = False) -> bool:
    """Makes the legs present carry exactly the configured buckets; True when it set some.

    A bucket already there at the configured rate is kept unless `replace` (a config change).
    """
    wanted = buckets(config)
    ours = {q.index: q for q in nl.qdiscs() if q.handle == SHAPER_HANDLE and q.root}
    changed = False
    for link in nl.links():
        bucket = wanted.get(link.group)
        present = ours.get(link.index)
        kept = present is not None and present.rate_bytes == (
            bucket.rate_bps // 8 if bucket else -1
        )
        if bucket is not None and kept and not replace:
            continue
        if bucket is not None:
            nl.replace_tbf(
                link.index, SHAPER_HANDLE, bucket.rate_bps, bucket.burst_bytes, LATENCY_MS
            )
            changed = True
        elif link.index in ours:
            nl.delete_root_qdisc(link.index)
            changed = True
    return changed


def shaping_ok(qdiscs: list[Qdisc], links: list[Link], groups: list[int]) -> bool:
    """Whether each present leg of `groups` has our token bucket (health of a rate limiter)."""
    legs = {link.index for link in links if link.group in groups}
    ours = {q.index for q in qdiscs if q.handle == SHAPER_HANDLE and q.root}
    return legs <= ours


def queue_counters(qdiscs: list[Qdisc], links: list[Link]) -> dict[str, dict[str, int]]:
    """Packets, bytes and drops of our token buckets, by leg ("lan", "wan")."""
    legs = {link.index: LEG_NAMES[link.group] for link in links if link.group in LEG_NAMES}
    return {
        legs[q.index]: {"packets": q.packets, "bytes": q.bytes, "drops": q.drops}
        for q in qdiscs
        if q.handle == SHAPER_HANDLE and q.root and q.index in legs
    }
