"""Queries the lifecycle pages need and no API offers: a rollout's sites with their wave and
state, and the names of an NS instance's sites (both scoped through access like every read)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, get_visible, visible
from edgewise.central.store.tables import RolloutRow, RolloutSiteRow, SiteRow

SITES_SHOWN = 500  # of a rollout's sites on its page (the counts cover them all)


@dataclass(frozen=True)
class RolloutSite:
    site_id: str
    site_name: str
    wave: int  # 1-based
    state: str
    ns_instance_id: str | None
    op_id: str | None


def rollout_sites(
    session: Session, principal: Principal, rollout_id: str, *, limit: int = SITES_SHOWN
) -> list[RolloutSite]:
    """The rollout's sites by wave then name (the first `limit`); NotFound if it is not the
    caller's to see."""
    get_visible(session, RolloutRow, rollout_id, principal, what="rollout")
    rows = session.execute(
        select(
            RolloutSiteRow.site_id,
            SiteRow.name,
            RolloutSiteRow.wave,
            RolloutSiteRow.state,
            RolloutSiteRow.ns_instance_id,
            RolloutSiteRow.op_id,
        )
        .join(SiteRow, SiteRow.id == RolloutSiteRow.site_id)
        .where(RolloutSiteRow.rollout_id == rollout_id)
        .order_by(RolloutSiteRow.wave, SiteRow.name, SiteRow.id)
        .limit(min(limit, SITES_SHOWN))
    )
    return [RolloutSite(s, n, w + 1, st, ns, op) for s, n, w, st, ns, op in rows]


def site_names(session: Session, principal: Principal, site_ids: Sequence[str]) -> dict[str, str]:
    """{site id: name} of those of `site_ids` the caller sees (at most SITES_SHOWN)."""
    wanted = list(site_ids)[:SITES_SHOWN]
    rows = session.execute(
        select(SiteRow.id, SiteRow.name).where(SiteRow.id.in_(wanted), visible(principal, SiteRow))
    )
    return {str(site_id): str(name) for site_id, name in rows}
