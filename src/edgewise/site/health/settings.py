"""What link health is told per WAN link: probe settings and thresholds, with the defaults that
meet issue 12's goals (docs/link-health.md says why each value). The typed `links` section of
the desired state is mapped onto these; values out of range raise HealthSettingsError."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Literal

from edgewise.site.health.errors import HealthSettingsError

MAX_PROBES_PER_SECOND = 10  # the hard cap, per link
Protocol = Literal["icmp", "udp"]


def _check(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise HealthSettingsError(name, message)


@dataclass(frozen=True)
class ProbeSettings:
    """How a link is probed. Intervals and timeouts in seconds."""

    targets: tuple[IPv4Address, ...]
    protocol: Protocol = "icmp"
    port: int = 7  # UDP echo only
    healthy_interval: float = 0.15  # between probes while nothing is missed
    fast_interval: float = 0.02  # between probes after a miss, until an answer or down
    timeout_min: float = 0.03  # a probe's timeout adapts to the RTT, within these bounds
    timeout_max: float = 1.0
    max_per_second: int = MAX_PROBES_PER_SECOND  # in every sliding 1-second window

    def __post_init__(self) -> None:
        _check(bool(self.targets), "probe.targets", "at least one target is needed")
        _check(self.protocol in ("icmp", "udp"), "probe.protocol", "must be icmp or udp")
        _check(0 < self.port < 65536, "probe.port", "must be 1..65535")
        _check(self.healthy_interval >= 0.1, "probe.healthy_interval", "must be >= 0.1 s")
        _check(
            0.005 <= self.fast_interval <= self.healthy_interval,
            "probe.fast_interval",
            "must be between 0.005 s and the healthy interval",
        )
        _check(
            0.005 <= self.timeout_min <= self.timeout_max <= 10,
            "probe.timeout_min",
            "needs 0.005 <= timeout_min <= timeout_max <= 10 s",
        )
        _check(
            1 <= self.max_per_second <= MAX_PROBES_PER_SECOND,
            "probe.max_per_second",
            f"must be 1..{MAX_PROBES_PER_SECOND}",
        )


@dataclass(frozen=True)
class Thresholds:
    """When a link is degraded or down, and when it may come back."""

    loss_pct: float = 5.0  # degraded above this loss over the full window
    latency_ms: float = 150.0  # degraded above this mean RTT over the recent answers
    jitter_ms: float = 30.0  # degraded above this jitter over the recent answers
    recover_ratio: float = 0.6  # back to up only with every figure <= ratio x its threshold
    down_after: int = 4  # consecutive misses
    up_after: int = 5  # consecutive answers before a down link may come back
    failback_hold: float = 10.0  # seconds since the last miss/breach before coming back
    window: int = 400  # probes in the loss window (about 60 s at the healthy rate)
    latency_window: int = 20  # answers in the latency and jitter window (about 3 s)

    def __post_init__(self) -> None:
        _check(0 < self.loss_pct < 100, "thresholds.loss_pct", "must be between 0 and 100")
        _check(self.latency_ms > 0, "thresholds.latency_ms", "must be positive")
        _check(self.jitter_ms > 0, "thresholds.jitter_ms", "must be positive")
        _check(0 < self.recover_ratio <= 1, "thresholds.recover_ratio", "must be in (0, 1]")
        _check(1 <= self.down_after <= 100, "thresholds.down_after", "must be 1..100")
        _check(1 <= self.up_after <= 100, "thresholds.up_after", "must be 1..100")
        _check(0 <= self.failback_hold <= 3600, "thresholds.failback_hold", "must be 0..3600 s")
        _check(10 <= self.window <= 10_000, "thresholds.window", "must be 10..10000 probes")
        _check(
            2 <= self.latency_window <= self.window,
            "thresholds.latency_window",
            "must be 2..window",
        )


@dataclass(frozen=True)
class LinkHealthSettings:
    """One WAN link as link health sees it: where its probes leave, how, and its thresholds."""

    name: str
    interface: str  # in the WAN namespace: its carrier is watched
    fwmark: int  # probes carry it: `ip rule fwmark -> table` pins them to this link
    table: int
    probe: ProbeSettings
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        _check(bool(self.name), "name", "must not be empty")
        _check(0 < len(self.interface) < 16, "interface", "must be 1..15 characters")
        _check(0 < self.fwmark < 1 << 32, "fwmark", "must be 1..2^32-1")
        _check(0 < self.table < 1 << 32, "table", "must be 1..2^32-1")
