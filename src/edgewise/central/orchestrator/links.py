"""A site's WAN links: operators add, change and remove them; a tenant reads those of the sites
it sees, with what the site last reported of each. Every field is read by the contract
(`model.links.WanLink`), and every change recomposes the documents of the site and of its
overlay peers (`sdwan.recompose`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import sdwan
from edgewise.central.services.access import Principal, require_admin
from edgewise.central.services.errors import Conflict, InputProblem, NotFound, Unprocessable
from edgewise.central.services.sites import get_site
from edgewise.central.store.sdwan_tables import (
    OverlayMemberRow,
    OverlayRow,
    SiteLinkRow,
    SiteLinkStateRow,
    SteeringPolicyRow,
)
from edgewise.central.store.tables import SiteEventRow, aware_or_none
from edgewise.model.desired import DocumentError
from edgewise.model.fields import merge_patch, read, write
from edgewise.model.links import MAX_LINKS, WanLink

LINK_EVENT = "link-state"  # the event a site sends when a link changes state
RECENT_EVENTS = 20


@dataclass(frozen=True)
class LinkReport:
    """What the site last reported of a link."""

    state: str
    latency_ms: float | None
    loss_percent: float | None
    jitter_ms: float | None
    address: str | None
    since: datetime | None
    reported_at: datetime | None
    classes: dict[str, Any]


@dataclass(frozen=True)
class Link:
    """A link as desired (its document form) and as last reported (None: not yet)."""

    site_id: str
    name: str
    spec: dict[str, Any]
    reported: LinkReport | None


@dataclass(frozen=True)
class SiteLinks:
    site_id: str
    links: tuple[Link, ...]
    changes: tuple[dict[str, Any], ...]  # the latest link-state events, newest first


def contract_link(body: object, where: str = "") -> WanLink:
    """`body` read as a WanLink; Unprocessable naming every bad field as the contract does."""
    try:
        return read(WanLink, body)
    except DocumentError as exc:
        raise Unprocessable(
            "the link is not valid",
            [
                InputProblem(f"{where}{p.where}" if where else p.where, p.message)
                for p in exc.problems
            ],
        ) from exc


def list_links(session: Session, principal: Principal, site_id: str) -> SiteLinks:
    get_site(session, principal, site_id)
    rows = _rows(session, site_id)
    states = {
        r.name: r
        for r in session.scalars(
            select(SiteLinkStateRow).where(SiteLinkStateRow.site_id == site_id)
        )
    }
    links = tuple(Link(site_id, r.name, r.spec, _report(states.get(r.name))) for r in rows)
    return SiteLinks(site_id, links, _changes(session, site_id))


def read_link(session: Session, principal: Principal, site_id: str, name: str) -> Link:
    found = next(
        (link for link in list_links(session, principal, site_id).links if link.name == name), None
    )
    if found is None:
        raise NotFound(f"site {site_id} has no link {name!r}")
    return found


def add_link(session: Session, principal: Principal, site_id: str, body: object) -> Link:
    require_admin(principal, "set a site's WAN links")
    get_site(session, principal, site_id)
    link = contract_link(body)
    rows = _rows(session, site_id)
    if any(r.name == link.name for r in rows):
        raise Conflict(f"site {site_id} already has a link named {link.name!r}")
    if len(rows) >= MAX_LINKS:
        raise Unprocessable(
            "the site has as many links as a site may have",
            [InputProblem("name", f"a site has at most {MAX_LINKS} links")],
        )
    _ensure_interface_free(rows, link)
    position = max((r.position for r in rows), default=-1) + 1
    session.add(SiteLinkRow(site_id=site_id, name=link.name, position=position, spec=write(link)))
    session.flush()
    sdwan.recompose(session, sdwan.overlay_peers_of(session, [site_id]))
    return Link(site_id, link.name, write(link), None)


def update_link(
    session: Session, principal: Principal, site_id: str, name: str, patch: Mapping[str, Any]
) -> Link:
    """The link merge-patched (RFC 7396) with `patch`, read by the contract again."""
    require_admin(principal, "set a site's WAN links")
    get_site(session, principal, site_id)
    rows = _rows(session, site_id)
    row = next((r for r in rows if r.name == name), None)
    if row is None:
        raise NotFound(f"site {site_id} has no link {name!r}")
    link = contract_link(merge_patch(row.spec, dict(patch)))
    if link.name != name:
        raise Unprocessable(
            "a link keeps its name",
            [
                InputProblem(
                    "name",
                    f"{link.name!r}: the link is {name!r}; add "
                    "a new link and remove this one instead",
                )
            ],
        )
    _ensure_interface_free([r for r in rows if r.name != name], link)
    row.spec = write(link)
    session.flush()
    sdwan.recompose(session, sdwan.overlay_peers_of(session, [site_id]))
    return read_link(session, principal, site_id, name)


def remove_link(session: Session, principal: Principal, site_id: str, name: str) -> None:
    """Removes the link; Conflict naming the site's own policies and the overlays that name
    it (fleet-wide and tenant policies just lose it at this site)."""
    require_admin(principal, "set a site's WAN links")
    get_site(session, principal, site_id)
    row = session.get(SiteLinkRow, (site_id, name))
    if row is None:
        raise NotFound(f"site {site_id} has no link {name!r}")
    users = _users(session, site_id, name)
    if users:
        raise Conflict(
            f"link {name!r} of site {site_id} is in use: "
            + "; ".join(users)
            + "; change them first"
        )
    session.delete(row)
    stale = session.get(SiteLinkStateRow, (site_id, name))
    if stale is not None:
        session.delete(stale)
    session.flush()
    sdwan.recompose(session, sdwan.overlay_peers_of(session, [site_id]))


def _users(session: Session, site_id: str, name: str) -> list[str]:
    found = [
        f"the site's steering policy for class {c!r}"
        for c, links in session.execute(
            select(SteeringPolicyRow.class_name, SteeringPolicyRow.links).where(
                SteeringPolicyRow.scope_key == f"site:{site_id}"
            )
        )
        if name in links
    ]
    found += [
        f"overlay {overlay_name!r} ({overlay_id})"
        for overlay_id, overlay_name, links in session.execute(
            select(OverlayRow.id, OverlayRow.name, OverlayMemberRow.links)
            .join(OverlayMemberRow, OverlayMemberRow.overlay_id == OverlayRow.id)
            .where(OverlayMemberRow.site_id == site_id)
        )
        if links is not None and name in links
    ]
    return found


def _rows(session: Session, site_id: str) -> list[SiteLinkRow]:
    return list(
        session.scalars(
            select(SiteLinkRow).where(SiteLinkRow.site_id == site_id).order_by(SiteLinkRow.position)
        )
    )


def _ensure_interface_free(others: list[SiteLinkRow], link: WanLink) -> None:
    taken = next((r.name for r in others if r.spec.get("interface") == link.interface), None)
    if taken is not None:
        raise Conflict(f"interface {link.interface!r} is link {taken!r}'s already")


def _report(row: SiteLinkStateRow | None) -> LinkReport | None:
    if row is None:
        return None
    return LinkReport(
        row.state,
        row.latency_ms,
        row.loss_percent,
        row.jitter_ms,
        row.address,
        aware_or_none(row.since),
        aware_or_none(row.reported_at),
        dict(row.counters),
    )


def _changes(session: Session, site_id: str) -> tuple[dict[str, Any], ...]:
    """The site's latest link-state events (the event intake stores every event; JSON is not
    portable SQL, so the newest events are filtered here)."""
    recent = session.execute(
        select(SiteEventRow.at, SiteEventRow.body)
        .where(SiteEventRow.site_id == site_id)
        .order_by(SiteEventRow.id.desc())
        .limit(RECENT_EVENTS * 10)
    ).all()
    changes = [
        {"at": aware_or_none(at).isoformat() if at else None} | body  # type: ignore[union-attr]
        for at, body in recent
        if isinstance(body, dict) and body.get("event") == LINK_EVENT
    ]
    return tuple(changes[:RECENT_EVENTS])
