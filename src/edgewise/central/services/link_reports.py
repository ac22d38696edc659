"""What a site's status report says of its WAN links, overlay keys and overlay peers (optional
`links`, `overlay_keys`, `overlay_peers` in the status body): read here with the contract's
field reader, every field bounded (a bad one is named and refuses the report item), and kept per
link and per tenant.
`record` tells which sites changed what their overlay peers' documents carry (a key, a link's
address) or applied a revision a key rotation waits for, for the caller to recompose them (and
step the rotations: `orchestrator.rotations`)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from edgewise.central.services.errors import InputProblem
from edgewise.central.store.sdwan_tables import (
    OverlayRotationWaitRow,
    SiteLinkStateRow,
    SiteOverlayKeyRow,
)
from edgewise.model.fields import Record, Section, prop, read_into, write
from edgewise.model.kinds import Choice, Integer, Interface, ListOf, MapOf, refuse
from edgewise.model.links import MAX_LINKS
from edgewise.model.names import IDENT, NAME
from edgewise.model.overlay import MAX_OVERLAYS, MAX_PEERS, PublicKey
from edgewise.model.problems import Invalid, Json, Path, Problems, render_path
from edgewise.model.steering import MAX_APP_CLASSES

LINK_STATES: Final = ("up", "degraded", "down")
PEER_STATES: Final = ("up", "down")
COUNT: Final = Integer(0, 2**63 - 1, "a count")


@dataclass(frozen=True)
class Number:
    """A finite JSON number from low to high (a figure: milliseconds, a percentage)."""

    low: float
    high: float
    what: str

    def read(self, value: object, path: Path, out: Problems) -> float | Invalid:
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and self.low <= value <= self.high
        ):
            return float(value)
        return refuse(value, path, out, self)

    def write(self, value: float) -> Json:
        return value

    def describe(self) -> str:
        return f"{self.what} from {self.low:g} to {self.high:g}"


@dataclass(frozen=True)
class Moment:
    """An ISO 8601 time with a zone."""

    def read(self, value: object, path: Path, out: Problems) -> datetime | Invalid:
        if isinstance(value, str) and len(value) <= 40:
            try:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is not None:
                    return moment.astimezone(UTC)
            except (ValueError, OverflowError):
                pass
        return refuse(value, path, out, self)

    def write(self, value: datetime) -> Json:
        return value.isoformat()

    def describe(self) -> str:
        return "an ISO 8601 time with a zone"


MS: Final = Number(0, 3_600_000, "milliseconds")


@dataclass(frozen=True)
class ClassCounters(Section):
    packets: int = prop(COUNT, default=0)
    bytes: int = prop(COUNT, default=0)


@dataclass(frozen=True)
class LinkReport(Section):
    """One link as the site sees it: its state since when, its probe figures, the address it
    has (a DHCP link's), and per application class what went out of it."""

    name: str = prop(NAME, required=True)
    state: str = prop(Choice(LINK_STATES), required=True)
    since: datetime | None = prop(Moment())
    latency_ms: float | None = prop(MS)
    loss_percent: float | None = prop(Number(0, 100, "a percentage"))
    jitter_ms: float | None = prop(MS)
    address: Any = prop(Interface())
    classes: tuple[tuple[str, ClassCounters], ...] = prop(
        MapOf(NAME, Record(ClassCounters), MAX_APP_CLASSES), factory=tuple
    )


@dataclass(frozen=True)
class OverlayKey(Section):
    public_key: str = prop(PublicKey(), required=True)
    next_public_key: str | None = prop(PublicKey())


@dataclass(frozen=True)
class SdwanReport(Section):
    """The SD-WAN part of a status body (the other fields are the channel's)."""

    links: tuple[LinkReport, ...] | None = prop(ListOf(Record(LinkReport), MAX_LINKS))
    overlay_keys: tuple[tuple[str, OverlayKey], ...] | None = prop(
        MapOf(IDENT, Record(OverlayKey), MAX_OVERLAYS)
    )
    # per tenant, per peer site: whether its tunnel is up (services.alarms_reports reads it)
    overlay_peers: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] | None = prop(
        MapOf(IDENT, MapOf(IDENT, Choice(PEER_STATES), MAX_PEERS), MAX_OVERLAYS)
    )


def _part(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in ("links", "overlay_keys", "overlay_peers") if key in body}


def status_problems(body: Mapping[str, Any], where: str) -> Iterator[InputProblem]:
    """What is wrong with the body's `links` and `overlay_keys`, each named under `where`."""
    out = Problems()
    read_into(SdwanReport, _part(body), (), out)
    for problem in out.found:
        yield InputProblem(f"{where}.{render_path(problem.path)}", problem.message)


def record(session: Session, site_id: str, body: Mapping[str, Any], at: datetime) -> bool:
    """Keeps what the (newest, valid) status says of links and keys; True when a key or a
    link's address changed (what the site's overlay peers' documents carry), or when the
    revision it applied is one a key rotation waited for (the wait is struck off)."""
    out = Problems()
    report = read_into(SdwanReport, _part(body), (), out)
    if not isinstance(report, SdwanReport):
        return False  # refused at intake; never here
    changed = False
    if report.links is not None:
        changed |= _links(session, site_id, report.links, at)
    if report.overlay_keys is not None:
        changed |= _keys(session, site_id, dict(report.overlay_keys), at)
    revision = body.get("revision")
    if isinstance(revision, int) and not isinstance(revision, bool):
        changed |= _waits_met(session, site_id, revision)
    return changed


def _waits_met(session: Session, site_id: str, revision: int) -> bool:
    """Strikes off the rotations' waits for this site that `revision` meets; True when one of
    those rotations waits for nothing more (its next step is due: a hub's thousand spokes
    applying a step recompose once, at the last report)."""
    w = OverlayRotationWaitRow
    met = {
        (overlay, rotating)
        for overlay, rotating in session.execute(
            delete(w)
            .where(w.site_id == site_id, w.revision <= revision)
            .returning(w.overlay_id, w.rotating_site_id)
            .execution_options(synchronize_session=False)
        )
    }
    if not met:
        return False
    still = {
        (overlay, rotating)
        for overlay, rotating in session.execute(
            select(w.overlay_id, w.rotating_site_id).where(
                w.overlay_id.in_({overlay for overlay, _ in met})
            )
        )
    }
    return bool(met - still)


def _links(session: Session, site_id: str, links: tuple[LinkReport, ...], at: datetime) -> bool:
    rows = {
        r.name: r
        for r in session.scalars(
            select(SiteLinkStateRow).where(SiteLinkStateRow.site_id == site_id)
        )
    }
    changed = False
    for link in links:
        address = None if link.address is None else str(link.address)
        row = rows.pop(link.name, None)
        if row is None:
            row = SiteLinkStateRow(site_id=site_id, name=link.name)
            session.add(row)
            changed |= address is not None
        else:
            changed |= row.address != address
        row.state, row.since, row.address, row.reported_at = link.state, link.since, address, at
        row.latency_ms, row.loss_percent, row.jitter_ms = (
            link.latency_ms,
            link.loss_percent,
            link.jitter_ms,
        )
        row.counters = {name: write(counts) for name, counts in link.classes}
    if rows:  # links the site no longer reports
        session.execute(
            delete(SiteLinkStateRow).where(
                SiteLinkStateRow.site_id == site_id, SiteLinkStateRow.name.in_(list(rows))
            )
        )
        changed |= any(r.address is not None for r in rows.values())
    return changed


def _keys(session: Session, site_id: str, keys: dict[str, OverlayKey], at: datetime) -> bool:
    rows = {
        r.tenant_id: r
        for r in session.scalars(
            select(SiteOverlayKeyRow).where(SiteOverlayKeyRow.site_id == site_id)
        )
    }
    changed = False
    for tenant, key in keys.items():
        row = rows.pop(tenant, None)
        if row is None:
            session.add(
                SiteOverlayKeyRow(
                    site_id=site_id,
                    tenant_id=tenant,
                    public_key=key.public_key,
                    next_public_key=key.next_public_key,
                    reported_at=at,
                )
            )
            changed = True
            continue
        if (row.public_key, row.next_public_key) != (key.public_key, key.next_public_key):
            row.public_key, row.next_public_key = key.public_key, key.next_public_key
            changed = True
        row.reported_at = at
    return changed
