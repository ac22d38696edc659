"""The central's Prometheus series read from the store at scrape time (`GET /metrics`).

`StoreCollector` runs a few aggregate queries per scrape (fleet, operations, rollouts,
notifications, links); per-site link series only while the fleet has at most `site_series`
sites with reported links, so a scrape stays bounded at any fleet size (docs/monitoring.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import and_, case, func, literal, or_, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from edgewise.central.services.metrics_counters import class_counters, vnf_counters
from edgewise.central.services.metrics_operations import operation_durations
from edgewise.central.store.sdwan_tables import SiteLinkStateRow
from edgewise.central.store.tables import (
    DesiredStateRow,
    NotificationRow,
    NsLcmOpOccRow,
    RolloutRow,
    SiteRow,
    SiteStatusRow,
    TenantRow,
    utcnow,
)
from edgewise.model.sites import OFFLINE_AFTER, Presence

DEFAULT_SITE_SERIES = 500
MS = 1e-3  # link figures are reported in milliseconds and percent; series are in seconds, ratios


SCRAPE_TIMEOUT = 5.0  # s per query of a scrape (PostgreSQL); Prometheus' default timeout is 10


class ScrapeUnavailable(Exception):
    """The store did not answer a scrape's queries (in time): temporary, scrape again later."""


def _reason(exc: DBAPIError, timeout: float) -> str:
    if "statement timeout" in str(exc.orig):
        return f"the store did not answer the scrape's queries within {timeout:g} s"
    return f"the store is unavailable: {type(exc.orig).__name__}"


class StoreCollector(Collector):
    """Counts from the store, gathered anew on every scrape (no state kept between scrapes)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        site_series: int = DEFAULT_SITE_SERIES,
        timeout: float = SCRAPE_TIMEOUT,
    ) -> None:
        self._sessions = sessions
        self._site_series = site_series
        self._timeout = timeout

    def collect(self) -> Iterator[Metric]:
        """Every family, in one read transaction; ScrapeUnavailable when the store fails or
        a query outlasts the timeout (PostgreSQL: the transaction's statement_timeout)."""
        with self._sessions() as session:
            try:
                if session.get_bind().dialect.name == "postgresql":
                    milliseconds = max(1, int(self._timeout * 1000))
                    session.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
                yield from self._families(session)
            except DBAPIError as exc:
                raise ScrapeUnavailable(_reason(exc, self._timeout)) from exc

    def _families(self, session: Session) -> Iterator[Metric]:
        yield from fleet(session)
        yield from _counted(
            session,
            "edgewise_operations",
            "NS lifecycle operation occurrences in the store, by type and state",
            ("operation", "state"),
            (NsLcmOpOccRow.operation, NsLcmOpOccRow.state),
        )
        yield from operation_durations(session)
        yield from _counted(
            session, "edgewise_rollouts", "Rollouts by state", ("state",), (RolloutRow.state,)
        )
        yield from _counted(
            session,
            "edgewise_notifications",
            "Notifications in the delivery outbox, by state",
            ("state",),
            (NotificationRow.state,),
        )
        yield from links(session, self._site_series)
        yield from vnf_counters(session, self._site_series)


def fleet(session: Session) -> Iterator[Metric]:
    """Sites by presence and sync (online, converged, at its desired revision): one query."""
    cutoff = utcnow() - OFFLINE_AFTER
    presence = case(
        (SiteRow.enrolled_at.is_(None), literal(Presence.NEVER_ENROLLED.value)),
        (
            or_(SiteRow.enrolled_at >= cutoff, SiteStatusRow.last_seen_at >= cutoff),
            literal(Presence.ONLINE.value),
        ),
        else_=literal(Presence.OFFLINE.value),
    )
    synced = case(
        (
            and_(
                SiteRow.enrolled_at.is_not(None),
                or_(SiteRow.enrolled_at >= cutoff, SiteStatusRow.last_seen_at >= cutoff),
                func.coalesce(DesiredStateRow.revision, 0)
                == func.coalesce(SiteStatusRow.applied_revision, 0),
                SiteStatusRow.state == "converged",
            ),
            literal("in-sync"),
        ),
        else_=literal("out-of-sync"),
    )
    query = (
        select(presence, synced, func.count())
        .select_from(SiteRow)
        .outerjoin(DesiredStateRow, DesiredStateRow.site_id == SiteRow.id)
        .outerjoin(SiteStatusRow, SiteStatusRow.site_id == SiteRow.id)
        .group_by(presence, synced)
    )
    family = GaugeMetricFamily(
        "edgewise_sites",
        "Sites by presence (online, offline, never-enrolled) and sync state (in-sync: online, "
        "converged at its desired revision)",
        labels=("presence", "sync"),
    )
    seen: set[tuple[str, str]] = set()
    for place, sync, count in session.execute(query):
        family.add_metric((place, sync), count)
        seen.add((place, sync))
    for place in Presence:  # every presence shows, at 0 when no site has it
        if not any(key[0] == place.value for key in seen):
            family.add_metric((place.value, "out-of-sync"), 0)
    yield family


def _counted(
    session: Session,
    name: str,
    documentation: str,
    labels: tuple[str, ...],
    columns: tuple[InstrumentedAttribute[str], ...],
) -> Iterator[Metric]:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    query = select(*columns, func.count()).group_by(*columns)
    for *values, count in session.execute(query):
        family.add_metric(tuple(str(v) for v in values), count)
    yield family


def links(session: Session, site_series: int) -> Iterator[Metric]:
    """Link telemetry: fleet aggregates always; per-site series up to `site_series` sites."""
    by_state = GaugeMetricFamily(
        "edgewise_links", "WAN links as their sites last reported them, by state", labels=("state",)
    )
    for state, count in session.execute(
        select(SiteLinkStateRow.state, func.count()).group_by(SiteLinkStateRow.state)
    ):
        by_state.add_metric((state,), count)
    yield by_state
    figures = session.execute(
        select(
            func.avg(SiteLinkStateRow.latency_ms),
            func.max(SiteLinkStateRow.latency_ms),
            func.avg(SiteLinkStateRow.jitter_ms),
            func.max(SiteLinkStateRow.jitter_ms),
            func.avg(SiteLinkStateRow.loss_percent),
            func.max(SiteLinkStateRow.loss_percent),
        )
    ).one()
    for index, (name, unit, scale) in enumerate(
        (
            ("edgewise_links_latency", "seconds", MS),
            ("edgewise_links_jitter", "seconds", MS),
            ("edgewise_links_loss", "ratio", 0.01),
        )
    ):
        for aggregate, value in (("avg", figures[2 * index]), ("max", figures[2 * index + 1])):
            if value is not None:
                yield GaugeMetricFamily(
                    f"{name}_{unit}_{aggregate}",
                    f"The {aggregate} over the fleet's reported links ({unit})",
                    value=float(value) * scale,
                )
    reporting = session.scalar(select(func.count(func.distinct(SiteLinkStateRow.site_id)))) or 0
    detailed = reporting <= site_series
    yield GaugeMetricFamily(
        "edgewise_link_site_series",
        "1 while per-site link series are exposed (at most the configured number of sites "
        "report links), 0 when only the fleet aggregates are",
        value=int(detailed),
    )
    if detailed:
        yield from _per_site(session)


def _per_site(session: Session) -> Iterator[Metric]:
    labels = ("tenant", "site", "link")
    up = GaugeMetricFamily("edgewise_link_up", "1 when the site reports the link up", labels=labels)
    latency = GaugeMetricFamily(
        "edgewise_link_latency_seconds", "The link's reported latency", labels=labels
    )
    jitter = GaugeMetricFamily(
        "edgewise_link_jitter_seconds", "The link's reported jitter", labels=labels
    )
    loss = GaugeMetricFamily(
        "edgewise_link_loss_ratio", "The link's reported packet loss (0-1)", labels=labels
    )
    query = (
        select(
            TenantRow.name,
            SiteRow.name,
            SiteLinkStateRow.name,
            SiteLinkStateRow.state,
            SiteLinkStateRow.latency_ms,
            SiteLinkStateRow.jitter_ms,
            SiteLinkStateRow.loss_percent,
            SiteLinkStateRow.counters,
        )
        .join(SiteRow, SiteRow.id == SiteLinkStateRow.site_id)
        .join(TenantRow, TenantRow.id == SiteRow.tenant_id)
    )
    classes = []
    for tenant, site, link, state, latency_ms, jitter_ms, loss_percent, counters in session.execute(
        query
    ):
        key = (tenant, site, link)
        classes.append((tenant, site, link, counters))
        up.add_metric(key, 1 if state == "up" else 0)
        if latency_ms is not None:
            latency.add_metric(key, latency_ms * MS)
        if jitter_ms is not None:
            jitter.add_metric(key, jitter_ms * MS)
        if loss_percent is not None:
            loss.add_metric(key, loss_percent / 100)
    yield from (up, latency, jitter, loss)
    yield from class_counters(classes)
