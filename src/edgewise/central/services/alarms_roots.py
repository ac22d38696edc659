"""Root cause for the alarm engine (`services.alarms`): which kinds a root explains, and the set-
based correlation of the active alarms a new root explains (and their release when it clears).
A SITE_OFFLINE explains its site's VNF, link, SLA and overlay-peer alarms and other sites'
OVERLAY_PEER_DOWN toward it; a LINK_DOWN explains the SLA_BROKEN of the classes on its link."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services import fault_notifications as tell
from edgewise.central.services.alarm_terms import Kind, active_key, component
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.bulk import chunks

# What each root explains at its own site (its site's faults, by kind).
SITE_EXPLAINS: Final = frozenset(
    {Kind.VNF_DOWN, Kind.VNF_FLAPPING, Kind.LINK_DOWN, Kind.SLA_BROKEN, Kind.OVERLAY_PEER_DOWN}
)
ROOT_KINDS: Final = (Kind.SITE_OFFLINE, Kind.LINK_DOWN)  # in the order a batch raises them
MAX_SUPPRESSED_NAMED: Final = 100  # faults a root names in `details.suppressedFaults`


def offline_key(site_id: str) -> str:
    return active_key(Kind.SITE_OFFLINE, component(site_id))


def correlate(session: Session, roots: Sequence[AlarmRow], now: datetime) -> int:
    """Points the active, uncorrelated alarms these new roots explain at them (one
    alarm_changed each); returns how many."""
    offline: dict[str | None, AlarmRow] = {
        row.site_id: row for row in roots if row.kind == Kind.SITE_OFFLINE and row.site_id
    }
    links = {row.component: row for row in roots if row.kind == Kind.LINK_DOWN}
    candidates: list[AlarmRow] = []
    explained = [kind.value for kind in SITE_EXPLAINS]
    for chunk in chunks(sorted(site for site in offline if site is not None)):
        candidates.extend(
            session.scalars(
                select(AlarmRow).where(
                    AlarmRow.site_id.in_(chunk),
                    AlarmRow.kind.in_(explained),
                    AlarmRow.active_key.is_not(None),
                    AlarmRow.root_alarm_id.is_(None),
                )
            )
        )
    if offline:  # other sites' tunnels toward an offline site
        candidates.extend(_active_of(session, Kind.OVERLAY_PEER_DOWN))
    if links:
        link_sites = sorted({row.site_id for row in links.values() if row.site_id})
        for chunk in chunks(link_sites):
            candidates.extend(
                session.scalars(
                    select(AlarmRow).where(
                        AlarmRow.site_id.in_(chunk),
                        AlarmRow.kind == Kind.SLA_BROKEN.value,
                        AlarmRow.active_key.is_not(None),
                        AlarmRow.root_alarm_id.is_(None),
                    )
                )
            )
    moved: dict[str, AlarmRow] = {}
    for row in candidates:
        root = _root_for(row, offline, links)
        if root is None or root.id == row.id or row.id in moved:
            continue
        row.root_alarm_id, row.is_root_cause, row.changed_at = root.id, False, now
        moved[row.id] = row
    session.flush()
    for row in moved.values():
        tell.alarm_changed(session, row)
    return len(moved)


def release(session: Session, root_ids: Sequence[str], now: datetime) -> int:
    """The active alarms correlated to these (cleared) roots become roots again."""
    released: list[AlarmRow] = []
    for chunk in chunks(list(root_ids)):
        released.extend(
            session.scalars(
                select(AlarmRow).where(
                    AlarmRow.root_alarm_id.in_(chunk), AlarmRow.active_key.is_not(None)
                )
            )
        )
    for row in released:
        row.root_alarm_id, row.is_root_cause, row.changed_at = None, True, now
    session.flush()
    for row in released:
        tell.alarm_changed(session, row)
    return len(released)


def peer_of(component: str) -> str | None:
    """The peer site an OVERLAY_PEER_DOWN component names (`.../peer:ID`)."""
    for part in component.split("/"):
        if part.startswith("peer:"):
            return part[len("peer:") :]
    return None


def _root_for(
    row: AlarmRow, offline: Mapping[str | None, AlarmRow], links: Mapping[str, AlarmRow]
) -> AlarmRow | None:
    if row.kind in {k.value for k in SITE_EXPLAINS} and row.site_id in offline:
        return offline[row.site_id]
    if row.kind == Kind.OVERLAY_PEER_DOWN and peer_of(row.component) in offline:
        return offline[peer_of(row.component)]
    if row.kind == Kind.SLA_BROKEN:
        link = row.component.split("/app-class:")[0]
        return links.get(link)
    return None


def _active_of(session: Session, kind: Kind) -> list[AlarmRow]:
    return list(
        session.scalars(
            select(AlarmRow).where(
                AlarmRow.kind == kind.value,
                AlarmRow.active_key.is_not(None),
                AlarmRow.root_alarm_id.is_(None),
            )
        )
    )
