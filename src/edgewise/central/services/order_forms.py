"""What the self-service pages list besides the catalog: the caller's own NS instances and
sites, a bounded page of each by name (scoped by services.access, as every query is)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal, scoped
from edgewise.central.store.tables import NsInstanceRow, SiteRow

SHOWN_MAX = 100  # rows of one list (the API's page size at most)


@dataclass(frozen=True)
class Owned:
    """One of the caller's objects, as a link names it."""

    id: str
    name: str
    state: str = ""


def own_services(session: Session, principal: Principal, limit: int = SHOWN_MAX) -> list[Owned]:
    query = scoped(select(NsInstanceRow), principal, NsInstanceRow)
    rows = session.scalars(query.order_by(NsInstanceRow.name, NsInstanceRow.id).limit(limit))
    return [Owned(r.id, r.name, r.state) for r in rows]


def own_sites(session: Session, principal: Principal, limit: int = SHOWN_MAX) -> list[Owned]:
    query = scoped(select(SiteRow), principal, SiteRow)
    rows = session.scalars(query.order_by(SiteRow.name, SiteRow.id).limit(limit))
    return [Owned(r.id, r.name) for r in rows]
