"""The objects NS performance management measures: checking that those a PM job or threshold
names exist and are the caller's, and reading what their sites last reported (one pass of
`services.pm_collect` reads the telemetry of all its objects in a few queries)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, sees
from edgewise.central.services.errors import InputProblem
from edgewise.central.services.pm_metrics import NS, LinkReading, Telemetry
from edgewise.central.store.bulk import chunks
from edgewise.central.store.sdwan_tables import SiteLinkStateRow
from edgewise.central.store.tables import NsInstanceRow, SiteCountersRow, SiteRow, aware

WHAT = {NS: "NS instance", "SITE": "site"}


def missing(
    session: Session,
    principal: Principal,
    *,
    owner: str | None,
    object_type: str,
    ids: Sequence[str],
    where: str,
) -> list[InputProblem]:
    """A problem for each of `ids` that does not exist, that the caller does not see, or that
    is not of `owner` (the tenant the job or threshold will belong to, None: the operator's)."""
    model: Any = NsInstanceRow if object_type == NS else SiteRow
    found = {row.id: row for row in _rows(session, model, ids)}
    problems = []
    for index, object_id in enumerate(ids):
        row = found.get(object_id)
        if row is None or not sees(principal, row) or owner not in (None, row.tenant_id):
            problems.append(InputProblem(
                f"{where}[{index}]" if where.endswith("Ids") else where,
                f"{WHAT[object_type]} {object_id} does not exist",
            ))  # fmt: skip
    return problems


def _rows(session: Session, model: Any, ids: Iterable[str]) -> list[Any]:
    rows: list[Any] = []
    for chunk in chunks(list(dict.fromkeys(ids))):
        rows.extend(session.scalars(select(model).where(model.id.in_(chunk))))
    return rows


def telemetry(session: Session, ns_ids: Iterable[str], site_ids: Iterable[str]) -> Telemetry:
    """The latest counters of the NS instances' sites and the links of the sites named."""
    ns_sites = {row.id: list(row.site_ids) for row in _rows(session, NsInstanceRow, ns_ids)}
    counted = {site for sites in ns_sites.values() for site in sites}
    counters: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for chunk in chunks(sorted(counted)):
        query = select(SiteCountersRow).where(SiteCountersRow.site_id.in_(chunk))
        counters.update((row.site_id, (aware(row.at), row.body)) for row in session.scalars(query))
    links: dict[str, dict[str, LinkReading]] = {}
    for chunk in chunks(sorted(set(site_ids))):
        reported = select(SiteLinkStateRow).where(SiteLinkStateRow.site_id.in_(chunk))
        for link in session.scalars(reported):
            links.setdefault(link.site_id, {})[link.name] = LinkReading(
                link.latency_ms, link.loss_percent, link.jitter_ms, aware(link.reported_at)
            )
    return Telemetry(ns_sites, counters, links)


def ns_rows(session: Session, ns_ids: Iterable[str]) -> dict[str, NsInstanceRow]:
    """The NS instances still there, by id (what PM notifications' filters look at)."""
    return {row.id: row for row in _rows(session, NsInstanceRow, ns_ids)}


def href(object_type: str, object_id: str) -> dict[str, str]:
    """The link to a measured object: an NS instance (nslcm) or a site (Edgewise's API)."""
    if object_type == NS:
        return {"href": f"/nslcm/v1/ns_instances/{object_id}"}
    return {"href": f"/api/v1/sites/{object_id}"}
