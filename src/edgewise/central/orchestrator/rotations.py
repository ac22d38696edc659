"""Overlay key rotations in the store: `advance` starts, moves on and ends the rotations of an
overlay's members (the pure `keyrotation.step`), `wait_for` records the revisions each step
waits for, and the sites' status intake (`services.link_reports`) strikes a wait off when its
site reports that revision applied. `sdwan.recompose_overlay_peers` runs them around the
documents it writes, so a rotation moves on from the reports alone; `due` is for a timer's
sweep (`sdwan.sweep_rotations`), should two replicas take in a step's last reports at once
(docs/overlay.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator.keyrotation import Phase, Rotation, busy, step
from edgewise.central.orchestrator.topology import Topology
from edgewise.central.store.bulk import chunks
from edgewise.central.store.sdwan_tables import (
    OverlayMemberRow,
    OverlayRotationRow,
    OverlayRotationWaitRow,
    OverlayRow,
    SiteOverlayKeyRow,
)
from edgewise.central.store.tables import DesiredStateRow, SiteStatusRow, utcnow


@dataclass(frozen=True)
class Moved:
    """A rotation whose state changed: its overlay, its site, the peers that see it, where it
    stands now (None: it ended)."""

    overlay_id: str
    site_id: str
    peers: tuple[str, ...]
    rotation: Rotation | None


def load(session: Session, overlay_id: str) -> dict[str, Rotation]:
    """The rotations under way in an overlay, by rotating site."""
    return {
        row.site_id: Rotation(row.next_public_key, Phase(row.phase), row.link, tuple(row.switched))
        for row in session.scalars(
            select(OverlayRotationRow).where(OverlayRotationRow.overlay_id == overlay_id)
        )
    }


def advance(
    session: Session, site_ids: Iterable[str], topology_of: Callable[[Session, str], Topology]
) -> list[Moved]:
    """Steps every rotation of the overlays `site_ids` are members of (and starts those a
    reported next key asks for); what changed. Idempotent: nothing changes when nothing new
    was reported. An overlay with no rotation under way and no next key reported is not
    loaded (the common case costs two small queries)."""
    overlay_ids: set[str] = set()
    for chunk in chunks(list(dict.fromkeys(site_ids))):
        overlay_ids.update(
            session.scalars(
                select(OverlayMemberRow.overlay_id).where(OverlayMemberRow.site_id.in_(chunk))
            )
        )
    moved: list[Moved] = []
    for overlay_id in sorted(_rotating(session, overlay_ids)):
        moved += _advance_overlay(session, overlay_id, topology_of(session, overlay_id))
    return moved


def _rotating(session: Session, overlay_ids: set[str]) -> set[str]:
    """The overlays of `overlay_ids` with a rotation under way or a member's next key."""
    found: set[str] = set()
    for chunk in chunks(sorted(overlay_ids)):
        found.update(
            session.scalars(
                select(OverlayRotationRow.overlay_id)
                .where(OverlayRotationRow.overlay_id.in_(chunk))
                .distinct()
            )
        )
        found.update(
            session.scalars(
                select(OverlayMemberRow.overlay_id)
                .join(OverlayRow, OverlayRow.id == OverlayMemberRow.overlay_id)
                .join(SiteOverlayKeyRow, SiteOverlayKeyRow.site_id == OverlayMemberRow.site_id)
                .where(
                    OverlayMemberRow.overlay_id.in_(chunk),
                    SiteOverlayKeyRow.tenant_id == OverlayRow.tenant_id,
                    SiteOverlayKeyRow.next_public_key.is_not(None),
                )
                .distinct()
            )
        )
    return found


def _advance_overlay(session: Session, overlay_id: str, topology: Topology) -> list[Moved]:
    members = {m.site_id for m in topology.members}
    outstanding = {
        rotating
        for rotating, site in session.execute(
            select(OverlayRotationWaitRow.rotating_site_id, OverlayRotationWaitRow.site_id).where(
                OverlayRotationWaitRow.overlay_id == overlay_id
            )
        )
        if site in members
    }
    rotating = set(topology.rotations)
    moved = []
    for member in topology.members:
        peers = tuple(p.site_id for p in topology.peers_of(member))
        current = topology.rotations.get(member.site_id)
        new = step(
            current,
            next_key=member.next_public_key,
            links=[link.name for link in member.links],
            applied=member.site_id not in outstanding,
            may_start=not busy(member.site_id, peers, rotating - {member.site_id}),
        )
        if new == current:
            continue
        _store(session, overlay_id, member.site_id, new)
        if new is None:
            rotating.discard(member.site_id)
        else:
            rotating.add(member.site_id)
        moved.append(Moved(overlay_id, member.site_id, peers, new))
    session.flush()
    return moved


def _store(session: Session, overlay_id: str, site_id: str, rotation: Rotation | None) -> None:
    session.execute(
        delete(OverlayRotationWaitRow).where(
            OverlayRotationWaitRow.overlay_id == overlay_id,
            OverlayRotationWaitRow.rotating_site_id == site_id,
        )
    )
    row = session.get(OverlayRotationRow, (overlay_id, site_id))
    if rotation is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = OverlayRotationRow(overlay_id=overlay_id, site_id=site_id)
        session.add(row)
    row.next_public_key, row.phase, row.link = rotation.next_key, rotation.phase, rotation.link
    row.switched, row.updated_at = list(rotation.switched), utcnow()


def wait_for(session: Session, moved: Sequence[Moved]) -> list[str]:
    """After the documents of `moved` were written: each rotation under way waits until its
    site and every peer applied the revision it holds now (one already applied is not
    waited for). Returns the rotating sites that wait for nothing (to step again now)."""
    free = []
    for item in moved:
        if item.rotation is None:
            continue
        sites = [item.site_id, *item.peers]
        desired: dict[str, int] = {}
        applied: dict[str, int] = {}
        for chunk in chunks(sites):
            desired.update(
                session.execute(
                    select(DesiredStateRow.site_id, DesiredStateRow.revision).where(
                        DesiredStateRow.site_id.in_(chunk)
                    )
                ).all()
            )
            applied.update(
                session.execute(
                    select(SiteStatusRow.site_id, SiteStatusRow.applied_revision).where(
                        SiteStatusRow.site_id.in_(chunk)
                    )
                ).all()
            )
        waiting = [s for s in sites if s in desired and applied.get(s, 0) < desired[s]]
        if not waiting:
            free.append(item.site_id)
        for site in waiting:
            session.add(
                OverlayRotationWaitRow(
                    overlay_id=item.overlay_id,
                    rotating_site_id=item.site_id,
                    site_id=site,
                    revision=desired[site],
                )
            )
    session.flush()
    return free


def due(session: Session) -> set[str]:
    """Strikes off every wait its site's applied revision already meets; the rotating sites
    that wait for no one now (their step is due, or they wait for their site's promotion)."""
    w = OverlayRotationWaitRow
    applied = (
        select(SiteStatusRow.applied_revision)
        .where(SiteStatusRow.site_id == w.site_id)
        .scalar_subquery()
    )
    session.execute(
        delete(w).where(w.revision <= applied).execution_options(synchronize_session=False)
    )
    waiting = {(o, r) for o, r in session.execute(select(w.overlay_id, w.rotating_site_id))}
    return {
        site
        for overlay, site in session.execute(
            select(OverlayRotationRow.overlay_id, OverlayRotationRow.site_id)
        )
        if (overlay, site) not in waiting
    }
