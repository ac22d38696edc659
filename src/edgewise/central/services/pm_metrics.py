"""What Edgewise measures for SOL005 NS performance management (pure): the catalogue of
metrics and groups, checking what a PM job or threshold asks for, and a metric's value from
the telemetry the sites last reported (`Telemetry`, read by `services.pm_collect`).

    NS (objectType NS; an NS instance, summed over its sites; `.<vnf>` for one VNF of it)
      PacketCount  packets its VNFs' counters counted    } cumulative, as each VNF counts
      ByteCount    bytes its VNFs' counters counted      } since its rules were loaded
      DropCount    packets its rate limiters' queues dropped
    SITE (objectType SITE, an Edgewise extension; `.<link>` for one WAN link)
      LinkLatency ms, LinkLoss %, LinkJitter ms    as the site's link probes last measured
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from edgewise.central.services.errors import InputProblem

NS: Final = "NS"
SITE: Final = "SITE"
OBJECT_TYPES: Final = (NS, SITE)


@dataclass(frozen=True)
class Metric:
    name: str
    object_type: str
    unit: str
    reading: str  # the counter field (NS) or the link figure (SITE)


CATALOGUE: Final = {
    metric.name: metric
    for metric in (
        Metric("PacketCount", NS, "packets", "packets"),
        Metric("ByteCount", NS, "bytes", "bytes"),
        Metric("DropCount", NS, "packets", "drops"),
        Metric("LinkLatency", SITE, "ms", "latency_ms"),
        Metric("LinkLoss", SITE, "%", "loss_percent"),
        Metric("LinkJitter", SITE, "ms", "jitter_ms"),
    )
}
GROUPS: Final = {
    "VnfTraffic": ("PacketCount", "ByteCount", "DropCount"),
    "LinkQuality": ("LinkLatency", "LinkLoss", "LinkJitter"),
}


def split(name: str) -> tuple[str, str | None]:
    """`PacketCount.firewall` -> ("PacketCount", "firewall"); `PacketCount` -> (..., None)."""
    base, _, part = name.partition(".")
    return base, part or None


def check_metric(name: object, object_type: str, where: str) -> InputProblem | None:
    """What is wrong with a metric name asked of `object_type`, if anything."""
    if not isinstance(name, str) or not name:
        return InputProblem(where, "expected a metric name")
    base, _ = split(name)
    metric = CATALOGUE.get(base)
    if metric is None or metric.object_type != object_type:
        known = [m.name for m in CATALOGUE.values() if m.object_type == object_type]
        return InputProblem(
            where,
            f"{name!r}: Edgewise measures {', '.join(known)} of an object of type "
            f"{object_type} (optionally .<name> of one part)",
        )
    return None


def expand(
    metrics: Sequence[str], groups: Sequence[str], object_type: str
) -> tuple[list[str], list[InputProblem]]:
    """The metrics a job collects (its own, then its groups', each once) and the problems."""
    problems = [
        problem
        for index, name in enumerate(metrics)
        if (problem := check_metric(name, object_type, f"criteria.performanceMetric[{index}]"))
    ]
    wanted = list(metrics)
    for index, group in enumerate(groups):
        members = GROUPS.get(group)
        if members is None or CATALOGUE[members[0]].object_type != object_type:
            known = [g for g, ms in GROUPS.items() if CATALOGUE[ms[0]].object_type == object_type]
            problems.append(InputProblem(f"criteria.performanceMetricGroup[{index}]",
                                         f"{group!r}: Edgewise's groups for {object_type} are "
                                         f"{', '.join(known)}"))  # fmt: skip
            continue
        wanted.extend(members)
    return list(dict.fromkeys(wanted)), problems


@dataclass(frozen=True)
class LinkReading:
    latency_ms: float | None
    loss_percent: float | None
    jitter_ms: float | None
    at: datetime


@dataclass(frozen=True)
class Telemetry:
    """What the sites last reported, for the objects of one tracker pass."""

    ns_sites: Mapping[str, Sequence[str]] = field(default_factory=dict)  # NS id -> its sites
    counters: Mapping[str, tuple[datetime, Mapping[str, Any]]] = field(default_factory=dict)
    links: Mapping[str, Mapping[str, LinkReading]] = field(default_factory=dict)  # site -> link


def values(telemetry: Telemetry, object_type: str, object_id: str,
           metrics: Sequence[str]) -> tuple[dict[str, float], datetime | None]:  # fmt: skip
    """The metrics' values of one object now (a link metric without a link: one value per
    link, named `LinkLatency.<link>`), and the time of the newest telemetry they come from.
    A metric nothing has reported is absent."""
    found: dict[str, float] = {}
    newest: list[datetime] = []
    for name in metrics:
        base, part = split(name)
        metric = CATALOGUE[base]
        if object_type == NS:
            value, at = _ns_value(telemetry, object_id, metric.reading, part)
            if value is not None:
                found[name] = value
        else:
            readings = telemetry.links.get(object_id, {})
            for link in [part] if part else sorted(readings):
                reading = readings.get(link)
                figure = getattr(reading, metric.reading) if reading else None
                if reading is not None and figure is not None:
                    found[f"{base}.{link}"] = float(figure)
                    newest.append(reading.at)
            continue
        if at is not None:
            newest.append(at)
    return found, max(newest) if newest else None


def _ns_value(
    telemetry: Telemetry, ns_id: str, reading: str, vnf: str | None
) -> tuple[float | None, datetime | None]:
    total, counted, newest = 0.0, False, None
    for site in telemetry.ns_sites.get(ns_id, ()):
        at, body = telemetry.counters.get(site, (None, {}))
        services = body.get("services")
        vnfs = services.get(ns_id) if isinstance(services, Mapping) else None
        if not isinstance(vnfs, Mapping):
            continue
        for name, groups in vnfs.items():
            if vnf is not None and name != vnf:
                continue
            number = counted_in(groups, reading)
            if number is not None:
                total, counted = total + number, True
                newest = at if newest is None or (at and at > newest) else newest
    return (total if counted else None), newest


def counted_in(groups: object, reading: str) -> float | None:
    """The sum of `reading` over a VNF's counters (`{"rules": {"rule-0": {"packets": 12, ...}},
    "queues": {...}}`, see site/drivers/linux/counters.py); None when none counts it."""
    if not isinstance(groups, Mapping):
        return None
    numbers = [
        item[reading]
        for group in groups.values()
        if isinstance(group, Mapping)
        for item in group.values()
        if isinstance(item, Mapping)
        and isinstance(item.get(reading), int | float)
        and not isinstance(item.get(reading), bool)
    ]
    return float(sum(numbers)) if numbers else None


def crossing(crossed: str | None, value: float, threshold: float,
             hysteresis: float) -> tuple[str | None, str | None]:  # fmt: skip
    """(the side the threshold is on now, the direction crossed if it just crossed). UP when the
    value reaches threshold + hysteresis, DOWN when it reaches threshold - hysteresis (SOL005);
    a threshold starts below, so a first reading under it crosses nothing."""
    if value >= threshold + hysteresis and crossed != "UP":
        return "UP", "UP"
    if value <= threshold - hysteresis and crossed != "DOWN":
        return "DOWN", (None if crossed is None else "DOWN")
    return crossed, None
