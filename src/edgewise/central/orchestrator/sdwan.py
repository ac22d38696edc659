"""Writes the SD-WAN sections of sites' documents: loads what the store holds for a set of sites
(their links, the steering policies, bounds, classes and profiles that reach them, the overlays
they are members of, the key rotations under way, their real-time policy rules), composes them
pure (`steering_compose`, `topology`, `policy_compose`) and writes, through
`documents.write_sections`, only the documents that change, in bulk."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import documents, rotations
from edgewise.central.orchestrator.policy_compose import SitePolicy, compose_policy
from edgewise.central.orchestrator.steering_compose import (
    Bound,
    Catalogue,
    Policy,
    SiteSteering,
    compose_steering,
)
from edgewise.central.orchestrator.topology import Member, Topology, compose_overlays, reached_at
from edgewise.central.services.errors import Conflict
from edgewise.central.store.bulk import chunks
from edgewise.central.store.policy_tables import PolicyRuleRow
from edgewise.central.store.sdwan_tables import (
    AppClassRow,
    OverlayMemberRow,
    OverlayRow,
    SiteLinkRow,
    SiteLinkStateRow,
    SiteOverlayKeyRow,
    SlaProfileRow,
    SteeringBoundRow,
    SteeringPolicyRow,
)
from edgewise.central.store.tables import SiteRow
from edgewise.model.desired import SiteSections
from edgewise.model.fields import read, write
from edgewise.model.links import MAX_LINKS, WanLink
from edgewise.model.overlay import Overlay
from edgewise.model.rtpolicy import PolicyRule
from edgewise.model.steering import AppClass, SlaProfile, Steering


@dataclass(frozen=True)
class Composed:
    """What the central composed for one site (the sections, and why policies left out)."""

    links: tuple[WanLink, ...]
    steering: SiteSteering
    overlays: tuple[Overlay, ...]
    policy: SitePolicy


class Reader:
    """Reads stored specs through the contract once per distinct spec (many sites share
    one)."""

    def __init__(self) -> None:
        self._links: dict[str, WanLink] = {}
        self._rules: dict[str, PolicyRule] = {}

    def link(self, spec: Mapping[str, Any]) -> WanLink:
        key = json.dumps(spec, sort_keys=True)
        found = self._links.get(key)
        if found is None:
            found = self._links[key] = read(WanLink, spec)
        return found

    def rule(self, spec: Mapping[str, Any]) -> PolicyRule:
        key = json.dumps(spec, sort_keys=True)
        found = self._rules.get(key)
        if found is None:
            found = self._rules[key] = read(PolicyRule, spec)
        return found


def recompose(
    session: Session, site_ids: Iterable[str], reader: Reader | None = None
) -> dict[str, int]:
    """Composes the SD-WAN sections of `site_ids` anew and writes the documents that change;
    returns their new revisions. `reader` may be shared with the caller's views."""
    composed = compose_sites(session, site_ids, reader)
    sections: dict[str, dict[str, Any]] = {}
    written: dict[Steering, Any] = {}
    for site_id, found in composed.items():
        steering = found.steering.steering
        if steering is not None and steering not in written:
            written[steering] = write(steering)
        _check(site_id, found)
        sections[site_id] = {
            "links": [write(link) for link in found.links],
            "steering": written[steering] if steering is not None else None,
            "overlays": [write(overlay) for overlay in found.overlays],
            "policy_rules": [write(rule) for rule in found.policy.rules],
        }
    return documents.write_sections(session, sections)


def _check(site_id: str, found: Composed) -> None:
    """The contract's cross-section rules hold for what was composed (a broken one is a bug
    here, refused before any site sees it)."""
    sections = SiteSections(
        (),
        found.links or None,
        found.steering.steering,
        found.overlays or None,
        found.policy.rules or None,
    )
    broken = list(sections.problems())
    if broken:
        raise Conflict(
            f"site {site_id}: the composed SD-WAN sections break the contract: "
            + "; ".join(b.message for b in broken[:5])
        )


def compose_sites(
    session: Session, site_ids: Iterable[str], reader: Reader | None = None
) -> dict[str, Composed]:
    ids = list(dict.fromkeys(site_ids))
    if not ids:
        return {}
    reader = reader or Reader()
    tenants = _tenants(session, ids)
    links = site_links(session, ids, reader)
    catalogue = Catalogue(
        {r.name: read(AppClass, r.spec) for r in session.scalars(select(AppClassRow))},
        {r.name: read(SlaProfile, r.spec) for r in session.scalars(select(SlaProfileRow))},
    )
    policies = _policies(session, ids, set(tenants.values()))
    bounds = _bounds(session, set(tenants.values()))
    overlays = _overlays_of(session, ids, reader)
    rules = _rules(session, ids, set(tenants.values()), reader)
    composed: dict[str, Composed] = {}
    for site_id in ids:
        tenant = tenants.get(site_id)
        if tenant is None:
            continue  # deleted meanwhile
        own = links.get(site_id, ())
        reach = policies.get(f"site:{site_id}", []) + policies.get(f"tenant:{tenant}", [])
        steering = compose_steering(
            tenant_id=tenant,
            links=[link.name for link in own],
            policies=reach + policies.get("fleet", []),
            bounds=bounds.get(tenant, {}),
            catalogue=catalogue,
        )
        entries = tuple(e[site_id] for e in overlays if site_id in e)
        carried = steering.steering.classes if steering.steering is not None else ()
        policy = compose_policy(
            tenant_id=tenant,
            site_rules=rules.get(f"site:{site_id}", []),
            tenant_rules=rules.get(f"tenant:{tenant}", []),
            links=[link.name for link in own],
            classes=[c.name for c in carried],
        )
        composed[site_id] = Composed(own, steering, entries, policy)
    return composed


def _rules(
    session: Session, ids: Sequence[str], tenants: set[str], reader: Reader
) -> dict[str, list[PolicyRule]]:
    """The real-time policy rules of the sites and tenants, by scope key, in order."""
    keys = [*(f"site:{s}" for s in ids), *(f"tenant:{t}" for t in sorted(tenants))]
    found: dict[str, list[tuple[int, PolicyRule]]] = {}
    for chunk in chunks(keys):
        query = select(PolicyRuleRow.scope_key, PolicyRuleRow.position, PolicyRuleRow.spec)
        for key, position, spec in session.execute(query.where(PolicyRuleRow.scope_key.in_(chunk))):
            found.setdefault(key, []).append((position, reader.rule(spec)))
    return {
        key: [rule for _, rule in sorted(rows, key=lambda r: r[0])] for key, rows in found.items()
    }


def _tenants(session: Session, ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in chunks(ids):
        query = select(SiteRow.id, SiteRow.tenant_id).where(SiteRow.id.in_(chunk))
        found.update((site_id, tenant_id) for site_id, tenant_id in session.execute(query))
    return found


def site_links(
    session: Session, ids: Sequence[str], reader: Reader
) -> dict[str, tuple[WanLink, ...]]:
    """Each site's links in their order (sites without links are missing)."""
    rows: dict[str, list[tuple[int, WanLink]]] = {}
    for chunk in chunks(ids):
        query = select(SiteLinkRow.site_id, SiteLinkRow.position, SiteLinkRow.spec)
        for site_id, position, spec in session.execute(query.where(SiteLinkRow.site_id.in_(chunk))):
            rows.setdefault(site_id, []).append((position, reader.link(spec)))
    return {
        site: tuple(link for _, link in sorted(found, key=lambda x: x[0]))
        for site, found in rows.items()
    }


def _policies(session: Session, ids: Sequence[str], tenants: set[str]) -> dict[str, list[Policy]]:
    keys = ["fleet", *(f"site:{s}" for s in ids), *(f"tenant:{t}" for t in tenants)]
    found: dict[str, list[Policy]] = {}
    for chunk in chunks(keys):
        for row in session.scalars(
            select(SteeringPolicyRow).where(SteeringPolicyRow.scope_key.in_(chunk))
        ):
            found.setdefault(row.scope_key, []).append(
                Policy(row.scope, row.class_name, tuple(row.links), row.sla, row.spread)
            )
    return found


def _bounds(session: Session, tenants: set[str]) -> dict[str, dict[str, Bound]]:
    found: dict[str, dict[str, Bound]] = {}
    for chunk in chunks(sorted(tenants)):
        for row in session.scalars(
            select(SteeringBoundRow).where(SteeringBoundRow.tenant_id.in_(chunk))
        ):
            found.setdefault(row.tenant_id, {})[row.class_name] = Bound(
                tuple(row.links), row.may_change_sla
            )
    return found


def _overlays_of(session: Session, ids: Sequence[str], reader: Reader) -> list[dict[str, Overlay]]:
    """The entries of every overlay one of `ids` is a member of, by member site."""
    overlay_ids: set[str] = set()
    for chunk in chunks(ids):
        overlay_ids.update(
            session.scalars(
                select(OverlayMemberRow.overlay_id).where(OverlayMemberRow.site_id.in_(chunk))
            )
        )
    return [compose_overlays(topology_of(session, i, reader)) for i in sorted(overlay_ids)]


def topology_of(session: Session, overlay_id: str, reader: Reader | None = None) -> Topology:
    """An overlay with its members as the store knows them (links, reported addresses, keys)."""
    reader = reader or Reader()
    overlay = session.get_one(OverlayRow, overlay_id)
    rows = session.scalars(
        select(OverlayMemberRow).where(OverlayMemberRow.overlay_id == overlay_id)
    ).all()
    ids = [row.site_id for row in rows]
    links = site_links(session, ids, reader)
    reported: dict[str, dict[str, str]] = {}
    keys: dict[str, tuple[str, str | None]] = {}
    for chunk in chunks(ids):
        query = select(SiteLinkStateRow.site_id, SiteLinkStateRow.name, SiteLinkStateRow.address)
        for site_id, name, address in session.execute(
            query.where(SiteLinkStateRow.site_id.in_(chunk), SiteLinkStateRow.address.is_not(None))
        ):
            if address is not None:
                reported.setdefault(site_id, {})[name] = address
        for found in session.scalars(
            select(SiteOverlayKeyRow).where(
                SiteOverlayKeyRow.site_id.in_(chunk),
                SiteOverlayKeyRow.tenant_id == overlay.tenant_id,
            )
        ):
            keys[found.site_id] = (found.public_key, found.next_public_key)
    members = []
    for row in sorted(rows, key=lambda r: IPv4Address(r.address)):
        own = links.get(row.site_id, ())
        if row.links is not None:
            own = tuple(link for link in own if link.name in row.links)
        key, following = keys.get(row.site_id, (None, None))
        reach = reached_at(own, reported.get(row.site_id, {}))
        members.append(Member(row.site_id, IPv4Address(row.address), own, reach, key, following))
    return Topology(
        overlay.tenant_id,
        overlay.topology,
        IPv4Network(overlay.prefix),
        overlay.base_port,
        overlay.key_rotation_h,
        tuple(overlay.hubs),
        tuple(members),
        rotations.load(session, overlay_id),
    )


def overlay_peers_of(session: Session, site_ids: Iterable[str]) -> set[str]:
    """`site_ids` and the sites whose overlay entries name one of them as a peer: in a full
    mesh every member; in a hub-and-spoke a spoke's hubs, a hub's every member."""
    ids = list(dict.fromkeys(site_ids))
    memberships: dict[str, set[str]] = {}
    for chunk in chunks(ids):
        query = select(OverlayMemberRow.overlay_id, OverlayMemberRow.site_id)
        for overlay_id, site_id in session.execute(
            query.where(OverlayMemberRow.site_id.in_(chunk))
        ):
            memberships.setdefault(overlay_id, set()).add(site_id)
    found = set(ids)
    everyone: list[str] = []
    for overlay_id, members in memberships.items():
        overlay = session.get_one(OverlayRow, overlay_id)
        if overlay.topology == "full-mesh" or members & set(overlay.hubs):
            everyone.append(overlay_id)
        else:
            found.update(overlay.hubs)
    for chunk in chunks(sorted(everyone)):
        found.update(
            session.scalars(
                select(OverlayMemberRow.site_id).where(OverlayMemberRow.overlay_id.in_(chunk))
            )
        )
    return found


def sites_with_links(session: Session, tenant_id: str | None = None) -> list[str]:
    """Sites that have links (of `tenant_id` only, when given): those steering can reach,
    and those whose steering may have to go."""
    query = select(SiteLinkRow.site_id).distinct()
    if tenant_id is not None:
        query = query.join(SiteRow, SiteRow.id == SiteLinkRow.site_id).where(
            SiteRow.tenant_id == tenant_id
        )
    return list(session.scalars(query))


ROTATION_PASSES = 2 * MAX_LINKS + 2  # a rotation's steps, should none wait for any site


def recompose_overlay_peers(
    session: Session, site_ids: set[str], reader: Reader | None = None
) -> dict[str, int]:
    """What report intake calls when sites report a new key or link address, or applied a
    revision a key rotation waits for (and what a member leaving calls): the rotations of
    their overlays step on, and the documents of every site sharing an overlay with them are
    composed anew; then each rotation that moved waits for the revisions now written."""
    revisions: dict[str, int] = {}
    wanted = set(site_ids)
    reader = reader or Reader()  # the links read once for the rotations and the documents
    for _ in range(ROTATION_PASSES):
        moved = rotations.advance(session, wanted, lambda s, o: topology_of(s, o, reader))
        touched = wanted | {m.site_id for m in moved}
        revisions |= recompose(session, overlay_peers_of(session, touched), reader)
        free = rotations.wait_for(session, moved)
        if not free:
            break
        wanted = set(free)
    return revisions


def sweep_rotations(session: Session) -> dict[str, int]:
    """What a timer runs on every replica (as the tracker's): strikes off the rotations' waits
    already met and steps those that wait for no one, composing documents only when one moved.
    A step whose last two reports two replicas took in at once (each saw the other's wait
    still there) moves on here; returns the new revisions."""
    due = rotations.due(session)
    if not due:
        return {}
    reader = Reader()
    moved = rotations.advance(session, due, lambda s, o: topology_of(s, o, reader))
    if not moved:
        return {}
    touched = {m.site_id for m in moved}
    revisions = recompose(session, overlay_peers_of(session, touched), reader)
    rotations.wait_for(session, moved)
    return revisions
