"""The alarm engine (issue 14 §2): raises, changes, clears and correlates alarms (`AlarmRow`) in
the caller's transaction and tells `fault_notifications`. Its sources call it: site reports
(`alarms_reports`), the periodic sweep (`alarms_sweep`), operations (`alarms_operations`).

Root cause: a SITE_OFFLINE alarm explains its site's VNF, link, SLA and overlay-peer alarms and
other sites' OVERLAY_PEER_DOWN toward it; a LINK_DOWN explains the SLA_BROKEN of classes on its
link. A fault a root explains is not raised (the root's `details.suppressed` counts it); an
active alarm a new root explains is correlated to it; when a root clears, the alarms it
correlated become their own roots again and the next reports clear or keep them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services import fault_notifications as tell
from edgewise.central.services.alarm_terms import Kind, ManagedObject, Severity, active_key
from edgewise.central.services.alarm_terms import component as component_of
from edgewise.central.services.alarms_roots import (
    MAX_SUPPRESSED_NAMED,
    ROOT_KINDS,
    SITE_EXPLAINS,
    correlate,
    offline_key,
    release,
)
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.bulk import chunks
from edgewise.central.store.tables import aware, new_id


@dataclass(frozen=True)
class Fault:
    """A fault a source found now: what the alarm for it must say. `link` and `peer_site_id`
    say which roots may explain it (the link an SLA is broken on, the peer a tunnel is down to)."""

    kind: Kind
    component: str
    managed_object: ManagedObject
    managed_object_id: str
    site_id: str | None = None
    tenant_id: str | None = None
    vnf_instance_id: str | None = None
    severity: Severity | None = None
    fault_details: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    link: str | None = None
    peer_site_id: str | None = None

    @property
    def key(self) -> str:
        return active_key(self.kind, self.component)

    @property
    def explained_by(self) -> tuple[str, ...]:
        """The active keys of the roots that would explain this fault, most general first."""
        roots: list[str] = []
        if self.kind in SITE_EXPLAINS and self.site_id is not None:
            roots.append(offline_key(self.site_id))
        if self.kind is Kind.OVERLAY_PEER_DOWN and self.peer_site_id is not None:
            roots.append(offline_key(self.peer_site_id))
        if self.kind is Kind.SLA_BROKEN and self.site_id is not None and self.link is not None:
            roots.append(active_key(Kind.LINK_DOWN, component_of(self.site_id, link=self.link)))
        return tuple(roots)


@dataclass
class Tally:
    """What one call did: alarms raised, changed (operator-visible), cleared, suppressed."""

    raised: int = 0
    changed: int = 0
    cleared: int = 0
    suppressed: int = 0

    def add(self, other: Tally) -> Tally:
        self.raised += other.raised
        self.changed += other.changed
        self.cleared += other.cleared
        self.suppressed += other.suppressed
        return self


def active_by_key(session: Session, keys: Iterable[str]) -> dict[str, AlarmRow]:
    """The active alarms of these keys, in chunks."""
    wanted = sorted(set(keys))
    found: dict[str, AlarmRow] = {}
    for chunk in chunks(wanted):
        for row in session.scalars(select(AlarmRow).where(AlarmRow.active_key.in_(chunk))):
            assert row.active_key is not None  # selected by it
            found[row.active_key] = row
    return found


def raise_faults(session: Session, faults: Iterable[Fault], now: datetime) -> Tally:
    """Raises an alarm per fault not active yet (unless a root explains it), updates the active
    ones (alarm_changed only when severity, fault details or correlation changed), and
    correlates the active alarms each newly raised root explains."""
    batch = sorted({f.key: f for f in faults}.values(), key=_rank)
    tally = Tally()
    if not batch:
        return tally
    active = active_by_key(session, {k for f in batch for k in (f.key, *f.explained_by)})
    raised: list[AlarmRow] = []
    changed: list[AlarmRow] = []
    for fault in batch:
        root = next((active[k] for k in fault.explained_by if k in active), None)
        row = active.get(fault.key)
        if row is None and root is not None:
            _suppressed(root, fault)
            tally.suppressed += 1
        elif row is None:
            row = _new_row(fault, root, now)
            session.add(row)
            active[fault.key] = row
            raised.append(row)
        elif _update(row, fault, root, now):
            changed.append(row)
    session.flush()
    for row in raised:
        tell.alarm_raised(session, row)
    for row in changed:
        tell.alarm_changed(session, row)
    tally.raised, tally.changed = len(raised), len(changed)
    roots = [row for row in raised if row.kind in ROOT_KINDS]
    if roots:
        tally.changed += correlate(session, roots, now)
    return tally


def clear_keys(session: Session, keys: Iterable[str], now: datetime) -> Tally:
    """Clears the active alarms of these keys (those not active are no-ops), and releases what
    each cleared root had correlated."""
    rows = list(active_by_key(session, keys).values())
    return clear_rows(session, rows, now)


def clear_rows(session: Session, rows: Sequence[AlarmRow], now: datetime) -> Tally:
    """Clears these active alarms (one alarm_cleared each) and releases what the roots among
    them had correlated."""
    for row in rows:
        row.active_key, row.cleared_at = None, now
    session.flush()
    for row in rows:
        tell.alarm_cleared(session, row)
    roots = [row.id for row in rows if row.kind in ROOT_KINDS]
    return Tally(cleared=len(rows), changed=release(session, roots, now) if roots else 0)


@dataclass(frozen=True)
class Said:
    """What one report speaks for in full at its site: these kinds, as of `at`."""

    kinds: frozenset[Kind]
    at: datetime


def settle(
    session: Session, scopes: Mapping[str, Said], present: Iterable[Fault], now: datetime
) -> Tally:
    """What reports say in full: for each site of `scopes`, the active alarms of its kinds
    that `present` no longer has are cleared — unless observed after the report (an event
    newer than the status) — then `present` is raised (clears first, so a link back up stops
    explaining its SLA faults before they are looked at)."""
    faults = list(present)
    keys = {f.key for f in faults}
    gone: list[AlarmRow] = []
    kinds = {kind.value for said in scopes.values() for kind in said.kinds}
    for chunk in chunks(sorted(scopes)):
        rows = session.scalars(
            select(AlarmRow).where(
                AlarmRow.site_id.in_(chunk),
                AlarmRow.kind.in_(kinds),
                AlarmRow.active_key.is_not(None),
            )
        )
        for row in rows:
            said = scopes[row.site_id or ""]
            spoken = Kind(row.kind) in said.kinds and row.active_key not in keys
            if spoken and aware(row.event_time) <= aware(said.at):
                gone.append(row)
    tally = clear_rows(session, gone, now) if gone else Tally()
    return tally.add(raise_faults(session, faults, now))


def _rank(fault: Fault) -> int:
    return ROOT_KINDS.index(fault.kind) if fault.kind in ROOT_KINDS else len(ROOT_KINDS)


def _new_row(fault: Fault, root: AlarmRow | None, now: datetime) -> AlarmRow:
    terms = fault.kind.terms
    return AlarmRow(
        id=new_id(),
        kind=fault.kind.value,
        component=fault.component,
        active_key=fault.key,
        tenant_id=fault.tenant_id,
        site_id=fault.site_id,
        managed_object_type=fault.managed_object.value,
        managed_object_id=fault.managed_object_id,
        vnf_instance_id=fault.vnf_instance_id,
        severity=(fault.severity or terms.severity).value,
        event_type=terms.event_type.value,
        probable_cause=terms.probable_cause,
        fault_type=terms.fault_type,
        fault_details=list(fault.fault_details),
        details=dict(fault.details),
        event_time=fault.at or now,
        raised_at=now,
        is_root_cause=root is None,
        root_alarm_id=None if root is None else root.id,
    )


def _update(row: AlarmRow, fault: Fault, root: AlarmRow | None, now: datetime) -> bool:
    """Brings an active alarm up to the fault; True when an operator sees a change."""
    severity = (fault.severity or fault.kind.terms.severity).value
    details = list(fault.fault_details)
    correlated = root is not None and row.root_alarm_id is None and root.id != row.id
    seen = row.severity != severity or list(row.fault_details) != details or correlated
    if seen:
        row.severity, row.fault_details, row.changed_at = severity, details, now
    if fault.at is not None:
        row.event_time = fault.at  # when it was last observed: nobody is told of that alone
    if correlated and root is not None:
        row.root_alarm_id, row.is_root_cause = root.id, False
    kept = {**row.details, **fault.details}
    if kept != row.details:
        row.details = kept  # a new dict: the JSON column sees the change
    return seen


def _suppressed(root: AlarmRow, fault: Fault) -> None:
    """Counts a fault the root explains (once per fault while the root is active)."""
    named: list[str] = list(root.details.get("suppressedFaults", []))
    count = int(root.details.get("suppressed", 0))
    if fault.key in named:
        return
    if len(named) < MAX_SUPPRESSED_NAMED:
        named.append(fault.key)
    root.details = {**root.details, "suppressed": count + 1, "suppressedFaults": named}
