"""Per-class and per-VNF counter series of `GET /metrics` (services.metrics reads the rows):
what each site last reported its data plane counted, as Prometheus counters. Bounded: classes
by the contract (at most MAX_APP_CLASSES per link report), VNFs to MAX_VNFS_PER_SITE per site
and counter groups to COUNTER_GROUPS, and only while the per-site bound holds."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from edgewise.central.store.tables import SiteCountersRow, SiteRow, TenantRow

MAX_VNFS_PER_SITE: Final = 64  # (service, VNF) pairs per site with series, in id order
COUNTER_GROUPS: Final = ("rules", "nat", "classes", "queues")  # counters.py's groups
LINK_LABELS: Final = ("tenant", "site", "link", "class")
VNF_LABELS: Final = ("tenant", "site", "service", "vnf", "group")

ClassRow = tuple[str, str, str, Mapping[str, Any]]  # tenant, site, link, counters by class


def class_counters(rows: Iterable[ClassRow]) -> Iterator[Metric]:
    """What went out of each link per application class (packets, bytes)."""
    packets = CounterMetricFamily(
        "edgewise_link_class_sent_packets",
        "Packets of an application class the site sent out of the link (as last reported)",
        labels=LINK_LABELS,
    )
    size = CounterMetricFamily(
        "edgewise_link_class_sent_bytes",
        "Bytes of an application class the site sent out of the link (as last reported)",
        labels=LINK_LABELS,
    )
    for tenant, site, link, counters in rows:
        for name, counted in sorted((counters or {}).items()):
            if isinstance(counted, Mapping):
                key = (tenant, site, link, name)
                packets.add_metric(key, _count(counted.get("packets")))
                size.add_metric(key, _count(counted.get("bytes")))
    yield from (packets, size)


def vnf_counters(session: Session, site_series: int) -> Iterator[Metric]:
    """Per VNF and counter group, the sums of its counters (packets, bytes, drops), while at
    most `site_series` sites have reported counters (all or nothing, as the link series)."""
    reporting = session.scalar(select(func.count()).select_from(SiteCountersRow)) or 0
    detailed = reporting <= site_series
    yield GaugeMetricFamily(
        "edgewise_vnf_site_series",
        "1 while per-VNF counter series are exposed (at most the configured number of sites "
        "report counters), 0 above",
        value=int(detailed),
    )
    if not detailed:
        return
    families = {
        part: CounterMetricFamily(
            f"edgewise_vnf_counted_{part}",
            f"The {part} a VNF's counters of a group counted (summed over the group's "
            "counters: rules, NAT entries, classes, queues), as its site last reported",
            labels=VNF_LABELS,
        )
        for part in ("packets", "bytes", "drops")
    }
    query = (
        select(TenantRow.name, SiteRow.name, SiteCountersRow.body)
        .join(SiteRow, SiteRow.id == SiteCountersRow.site_id)
        .join(TenantRow, TenantRow.id == SiteRow.tenant_id)
    )
    for tenant, site, body in session.execute(query):
        for service, vnf, group, sums in _vnf_sums(body):
            for part, value in sums.items():
                families[part].add_metric((tenant, site, service, vnf, group), value)
    yield from families.values()


def _vnf_sums(body: Mapping[str, Any]) -> Iterator[tuple[str, str, str, dict[str, int]]]:
    services = body.get("services") if isinstance(body, Mapping) else None
    if not isinstance(services, Mapping):
        return
    pairs = sorted(
        (str(service), str(vnf), counters)
        for service, vnfs in services.items()
        if isinstance(vnfs, Mapping)
        for vnf, counters in vnfs.items()
        if isinstance(counters, Mapping)
    )
    for service, vnf, counters in pairs[:MAX_VNFS_PER_SITE]:
        for group in COUNTER_GROUPS:
            entries = counters.get(group)
            if not isinstance(entries, Mapping):
                continue
            sums = {"packets": 0, "bytes": 0}
            for entry in entries.values():
                if isinstance(entry, Mapping):
                    sums["packets"] += _count(entry.get("packets"))
                    sums["bytes"] += _count(entry.get("bytes"))
                    if "drops" in entry:
                        sums["drops"] = sums.get("drops", 0) + _count(entry.get("drops"))
            yield service, vnf, group, sums


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
