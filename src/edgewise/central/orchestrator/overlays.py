"""A tenant's encrypted overlay: operators create it (topology, inner prefix, hubs, members by
id or label selector, base port), sites join and leave; the central gives each member an inner
address and composes every member's entry (`topology.compose_overlays`) into its document.
A tenant reads its own overlay; another tenant's is not found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from ipaddress import IPv4Address, IPv4Network

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import sdwan
from edgewise.central.orchestrator.topology import next_address
from edgewise.central.services import sites
from edgewise.central.services.access import Principal, get_visible, require_admin, scoped
from edgewise.central.services.errors import Conflict, InputProblem, Unprocessable
from edgewise.central.services.tenants import get_tenant
from edgewise.central.store.sdwan_tables import (
    OverlayMemberRow,
    OverlayRotationWaitRow,
    OverlayRow,
    SiteLinkRow,
)
from edgewise.central.store.tables import SiteRow, aware
from edgewise.model.links import MAX_LINKS
from edgewise.model.names import NAME
from edgewise.model.overlay import MAX_PEERS, TOPOLOGIES
from edgewise.model.problems import Problems
from edgewise.model.sites import LabelSelector

MAX_MEMBERS = MAX_PEERS + 1  # a hub's spokes, and the hub


@dataclass(frozen=True)
class OverlaySpec:
    tenant_id: str
    name: str
    topology: str
    prefix: str
    hubs: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    selector: str | None = None
    base_port: int = 51820
    key_rotation_h: int = 168


@dataclass(frozen=True)
class MemberView:
    site_id: str
    site_name: str
    role: str
    address: str
    links: tuple[str, ...]  # the links it rides now
    rides: tuple[str, ...] | None  # the links it was given (None: all of its links)
    public_key: str | None
    state: str  # ready, waiting for its key, no WAN links to ride


@dataclass(frozen=True)
class OverlayView:
    id: str
    tenant_id: str
    name: str
    topology: str
    prefix: str
    hubs: tuple[str, ...]
    base_port: int
    key_rotation_h: int
    created_at: datetime
    members: tuple[MemberView, ...]


def create_overlay(session: Session, principal: Principal, spec: OverlaySpec) -> OverlayView:
    require_admin(principal, "create overlays")
    get_tenant(session, principal, spec.tenant_id)
    prefix = _check(spec)
    if session.scalar(select(OverlayRow.id).where(OverlayRow.tenant_id == spec.tenant_id)):
        raise Conflict(f"tenant {spec.tenant_id} has an overlay already; add sites to it")
    sites = list(dict.fromkeys([*spec.hubs, *spec.sites, *_selected(session, spec)]))
    _ensure_tenants(session, spec.tenant_id, sites, spec)
    row = OverlayRow(
        tenant_id=spec.tenant_id,
        name=spec.name,
        topology=spec.topology,
        prefix=str(prefix),
        base_port=spec.base_port,
        key_rotation_h=spec.key_rotation_h,
        hubs=list(spec.hubs),
    )
    session.add(row)
    session.flush()
    _add_members(session, row, sites, None)
    reader = sdwan.Reader()
    sdwan.recompose(session, sites, reader)
    return _view(session, row, reader)


def list_overlays(session: Session, principal: Principal) -> list[OverlayView]:
    rows = session.scalars(
        scoped(select(OverlayRow), principal, OverlayRow).order_by(OverlayRow.name, OverlayRow.id)
    )
    return [_view(session, row) for row in rows]


def read_overlay(session: Session, principal: Principal, overlay_id: str) -> OverlayView:
    return _view(session, get_visible(session, OverlayRow, overlay_id, principal, what="overlay"))


def join(
    session: Session,
    principal: Principal,
    overlay_id: str,
    site_ids: Sequence[str],
    links: Sequence[str] | None = None,
) -> OverlayView:
    """Adds sites (riding `links`, or all their links); each gets the next free address."""
    require_admin(principal, "change overlays")
    row = get_visible(session, OverlayRow, overlay_id, principal, what="overlay")
    if links is not None and not links:
        raise Unprocessable(
            "a member rides at least one link",
            [InputProblem("links", "empty: leave it out to ride every link")],
        )
    out = Problems()
    for index, name in enumerate(links or ()):
        NAME.read(name, ("links", index), out)
    if out.found:
        raise Unprocessable(
            "the links are not valid", [InputProblem(p.where, p.message) for p in out.found]
        )
    have = set(
        session.scalars(
            select(OverlayMemberRow.site_id).where(OverlayMemberRow.overlay_id == overlay_id)
        )
    )
    already = [s for s in site_ids if s in have]
    if already:
        raise Conflict("already members: " + ", ".join(already))
    fresh = list(dict.fromkeys(site_ids))
    _ensure_tenants(session, row.tenant_id, fresh, None)
    _ensure_links(session, fresh, links or ())
    _add_members(session, row, fresh, None if links is None else list(links))
    reader = sdwan.Reader()
    sdwan.recompose(session, sdwan.overlay_peers_of(session, fresh), reader)
    return _view(session, row, reader)


def leave(session: Session, principal: Principal, overlay_id: str, site_id: str) -> OverlayView:
    """Takes a site out: its entry leaves its document, its peers drop it, its key rotation
    ends and the rotations that waited for it go on. A hub leaves only once it is no hub
    (Conflict)."""
    require_admin(principal, "change overlays")
    row = get_visible(session, OverlayRow, overlay_id, principal, what="overlay")
    member = session.get(OverlayMemberRow, (overlay_id, site_id))
    if member is None:
        raise Conflict(f"site {site_id} is no member of overlay {overlay_id}")
    if site_id in row.hubs:
        raise Conflict(
            f"site {site_id} is a hub of overlay {overlay_id}: the spokes reach each "
            "other through it; delete the overlay, or make another site the hub"
        )
    peers = sdwan.overlay_peers_of(session, [site_id])
    session.delete(member)  # its rotation goes with it (the store's cascade)
    session.execute(  # and the rotations of others wait for it no more
        delete(OverlayRotationWaitRow).where(
            OverlayRotationWaitRow.overlay_id == overlay_id,
            OverlayRotationWaitRow.site_id == site_id,
        )
    )
    session.flush()
    reader = sdwan.Reader()
    sdwan.recompose_overlay_peers(session, peers, reader)
    return _view(session, row, reader)


def delete_overlay(session: Session, principal: Principal, overlay_id: str) -> None:
    require_admin(principal, "delete overlays")
    row = get_visible(session, OverlayRow, overlay_id, principal, what="overlay")
    members = list(
        session.scalars(
            select(OverlayMemberRow.site_id).where(OverlayMemberRow.overlay_id == overlay_id)
        )
    )
    session.delete(row)
    session.flush()
    sdwan.recompose(session, members)


def delete_site(session: Session, principal: Principal, site_id: str) -> None:
    """Deletes a site (`services.sites.delete_site`'s rules) and takes it out of its overlays:
    a hub leaves the overlay's hubs, and the peers that named it get their documents anew."""
    peers = sdwan.overlay_peers_of(session, [site_id]) - {site_id}
    sites.delete_site(session, principal, site_id)
    session.flush()
    for row in session.scalars(select(OverlayRow)):
        if site_id in row.hubs:
            row.hubs = [hub for hub in row.hubs if hub != site_id]
    session.flush()
    sdwan.recompose_overlay_peers(session, peers)


def _check(spec: OverlaySpec) -> IPv4Network:
    problems: list[InputProblem] = []
    if spec.topology not in TOPOLOGIES:
        problems.append(InputProblem("topology", "one of " + ", ".join(TOPOLOGIES)))
    out = Problems()
    NAME.read(spec.name, ("name",), out)
    problems += [InputProblem(p.where, p.message) for p in out.found]
    prefix = IPv4Network("0.0.0.0/32")
    try:
        prefix = IPv4Network(spec.prefix)
    except ValueError as exc:
        problems.append(
            InputProblem(
                "prefix", f"{spec.prefix[:60]!r} is not an IPv4 network (e.g. 10.200.0.0/16): {exc}"
            )
        )
    else:
        if prefix.prefixlen > 30:
            problems.append(InputProblem("prefix", "at most /30: it holds the members' addresses"))
    if spec.topology == "hub-and-spoke" and not spec.hubs:
        problems.append(InputProblem("hubs", "a hub-and-spoke overlay has at least one hub"))
    if spec.topology == "full-mesh" and spec.hubs:
        problems.append(InputProblem("hubs", "a full mesh has no hubs"))
    if not 1 <= spec.base_port <= 65535 - MAX_LINKS:
        problems.append(
            InputProblem(
                "basePort",
                f"from 1 to {65535 - MAX_LINKS} (a member "
                f"listens on basePort + 0..{MAX_LINKS - 1})",
            )
        )
    if not 0 <= spec.key_rotation_h <= 8760:
        problems.append(InputProblem("keyRotationH", "hours from 0 (never) to 8760"))
    if spec.selector is not None:
        try:
            LabelSelector.parse(spec.selector)
        except ValueError as exc:
            problems.append(InputProblem("selector", str(exc)))
    if problems:
        raise Unprocessable("the overlay is not valid", problems)
    return prefix


def _selected(session: Session, spec: OverlaySpec) -> list[str]:
    """The tenant's sites the selector picks (once, at creation: later sites join by id)."""
    if spec.selector is None:
        return []
    selector = LabelSelector.parse(spec.selector)
    rows = session.execute(
        select(SiteRow.id, SiteRow.labels)
        .where(SiteRow.tenant_id == spec.tenant_id)
        .order_by(SiteRow.name)
    )
    return [site_id for site_id, labels in rows if selector.matches(labels)]


def _ensure_tenants(
    session: Session, tenant_id: str, site_ids: Sequence[str], spec: OverlaySpec | None
) -> None:
    if len(site_ids) > MAX_MEMBERS:
        raise Unprocessable(
            "too many members", [InputProblem("sites", f"at most {MAX_MEMBERS} sites")]
        )
    found: dict[str, str] = {}
    for start in range(0, len(site_ids), 500):
        chunk = list(site_ids[start : start + 500])
        found.update(
            session.execute(
                select(SiteRow.id, SiteRow.tenant_id).where(SiteRow.id.in_(chunk))
            ).all()
        )
    problems = []
    for index, site_id in enumerate(site_ids):
        where = _where(spec, site_id, index)
        if found.get(site_id) is None:
            problems.append(InputProblem(where, f"site {site_id} does not exist"))
        elif found[site_id] != tenant_id:
            problems.append(InputProblem(where, f"site {site_id} is not tenant {tenant_id}'s"))
    if problems:
        raise Unprocessable("some sites cannot be members of this overlay", problems)


def _ensure_links(session: Session, site_ids: Sequence[str], links: Sequence[str]) -> None:
    """Every joining site has each of the links it is told to ride."""
    problems = []
    for site_id in site_ids if links else ():
        have = set(session.scalars(select(SiteLinkRow.name).where(SiteLinkRow.site_id == site_id)))
        problems += [
            InputProblem(f"links[{i}]", f"{name!r} is not a link of site {site_id}")
            for i, name in enumerate(links)
            if name not in have
        ]
    if problems:
        raise Unprocessable("the sites do not have the links they are to ride", problems)


def _where(spec: OverlaySpec | None, site_id: str, index: int) -> str:
    if spec is None:
        return f"siteIds[{index}]"
    if site_id in spec.hubs:
        return f"hubs[{spec.hubs.index(site_id)}]"
    if site_id in spec.sites:
        return f"sites[{spec.sites.index(site_id)}]"
    return "selector"


def _add_members(
    session: Session, overlay: OverlayRow, site_ids: Sequence[str], links: list[str] | None
) -> None:
    prefix = IPv4Network(overlay.prefix)
    taken = {
        IPv4Address(a)
        for a in session.scalars(
            select(OverlayMemberRow.address).where(OverlayMemberRow.overlay_id == overlay.id)
        )
    }
    for site_id in site_ids:
        address = next_address(prefix, taken)
        if address is None:
            raise Conflict(f"overlay {overlay.id}'s prefix {prefix} has no free address left")
        taken.add(address)
        session.add(
            OverlayMemberRow(
                overlay_id=overlay.id, site_id=site_id, address=str(address), links=links
            )
        )
    session.flush()


def _view(session: Session, row: OverlayRow, reader: sdwan.Reader | None = None) -> OverlayView:
    topology = sdwan.topology_of(session, row.id, reader)
    names = dict(
        session.execute(
            select(SiteRow.id, SiteRow.name)
            .join(OverlayMemberRow, OverlayMemberRow.site_id == SiteRow.id)
            .where(OverlayMemberRow.overlay_id == row.id)
        ).all()
    )
    given: dict[str, list[str] | None] = dict(
        session.execute(
            select(OverlayMemberRow.site_id, OverlayMemberRow.links).where(
                OverlayMemberRow.overlay_id == row.id
            )
        ).all()
    )
    members = tuple(
        MemberView(
            m.site_id,
            names.get(m.site_id, ""),
            topology.role(m.site_id),
            str(m.address),
            tuple(link.name for link in m.links),
            _rides(given.get(m.site_id)),
            m.public_key,
            m.state,
        )
        for m in topology.members
    )
    return OverlayView(
        row.id,
        row.tenant_id,
        row.name,
        row.topology,
        row.prefix,
        tuple(row.hubs),
        row.base_port,
        row.key_rotation_h,
        aware(row.created_at),
        members,
    )


def _rides(links: list[str] | None) -> tuple[str, ...] | None:
    return None if links is None else tuple(links)
