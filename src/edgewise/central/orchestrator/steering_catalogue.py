"""The operator's SLA profiles and application classes: fleet-wide objects by name, each read
by the contract (`model.steering.SlaProfile`, `AppClass`; 422 naming every bad field). Every
caller reads them (a tenant names classes in its preferences); operators change them, and a
change recomposes the sites whose steering carries it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import sdwan
from edgewise.central.services.access import Principal, require_admin
from edgewise.central.services.errors import Conflict, InputProblem, NotFound, Unprocessable
from edgewise.central.store.sdwan_tables import (
    AppClassRow,
    NamedSpecRow,
    SlaProfileRow,
    SteeringBoundRow,
    SteeringPolicyRow,
)
from edgewise.model.desired import DocumentError
from edgewise.model.fields import Section, merge_patch, read, write
from edgewise.model.steering import MAX_APP_CLASSES, MAX_SLA_PROFILES, AppClass, SlaProfile


@dataclass(frozen=True)
class Kind:
    """SLA profiles or application classes: their table, contract record, noun and bound."""

    row: type[NamedSpecRow]
    record: type[SlaProfile] | type[AppClass]
    noun: str
    most: int


SLA_PROFILES = Kind(SlaProfileRow, SlaProfile, "SLA profile", MAX_SLA_PROFILES)
APP_CLASSES = Kind(AppClassRow, AppClass, "application class", MAX_APP_CLASSES)


@dataclass(frozen=True)
class Named:
    """A profile or a class: its name and its document form."""

    name: str
    spec: dict[str, Any]


def read_spec(kind: Kind, body: object) -> Section:
    try:
        return read(kind.record, body)
    except DocumentError as exc:
        raise Unprocessable(
            f"the {kind.noun} is not valid",
            [InputProblem(p.where, p.message) for p in exc.problems],
        ) from exc


def list_all(session: Session, kind: Kind) -> list[Named]:
    rows = session.scalars(select(kind.row).order_by(kind.row.name))
    return [Named(r.name, r.spec) for r in rows]


def get_one(session: Session, kind: Kind, name: str) -> Named:
    row = session.get(kind.row, name)
    if row is None:
        raise NotFound(f"{kind.noun} {name!r} does not exist")
    return Named(row.name, row.spec)


def create(session: Session, principal: Principal, kind: Kind, body: object) -> Named:
    require_admin(principal, f"create an {kind.noun}")
    spec = read_spec(kind, body)
    name: str = getattr(spec, "name")  # noqa: B009 - both records have one
    if session.get(kind.row, name) is not None:
        raise Conflict(f"{kind.noun} {name!r} exists already")
    if len(list_all(session, kind)) >= kind.most:
        raise Conflict(f"there are {kind.most} of them already, as many as a site may carry")
    session.add(kind.row(name=name, spec=write(spec)))
    session.flush()
    return Named(name, write(spec))


def update(
    session: Session, principal: Principal, kind: Kind, name: str, patch: Mapping[str, Any]
) -> Named:
    """Merge-patched (RFC 7396) and read again; the sites carrying it get a new revision."""
    require_admin(principal, f"change an {kind.noun}")
    row = session.get(kind.row, name)
    if row is None:
        raise NotFound(f"{kind.noun} {name!r} does not exist")
    spec = read_spec(kind, merge_patch(row.spec, dict(patch)))
    if getattr(spec, "name") != name:  # noqa: B009
        raise Unprocessable(
            f"an {kind.noun} keeps its name", [InputProblem("name", f"it is {name!r}")]
        )
    row.spec = write(spec)
    session.flush()
    sdwan.recompose(session, sdwan.sites_with_links(session))
    return Named(name, row.spec)


def delete(session: Session, principal: Principal, kind: Kind, name: str) -> None:
    """Deletes it; Conflict naming the policies (and, for a class, the tenants' bounds) that
    use it."""
    require_admin(principal, f"delete an {kind.noun}")
    row = session.get(kind.row, name)
    if row is None:
        raise NotFound(f"{kind.noun} {name!r} does not exist")
    column = SteeringPolicyRow.class_name if kind is APP_CLASSES else SteeringPolicyRow.sla
    users = [
        f"policy {i} ({scope})"
        for i, scope in session.execute(
            select(SteeringPolicyRow.id, SteeringPolicyRow.scope_key).where(column == name)
        )
    ]
    if kind is APP_CLASSES:
        users += [
            f"the steering bounds of tenant {t}"
            for t in session.scalars(
                select(SteeringBoundRow.tenant_id).where(SteeringBoundRow.class_name == name)
            )
        ]
    if users:
        raise Conflict(f"{kind.noun} {name!r} is in use by " + ", ".join(users[:20]))
    session.delete(row)


def exists(session: Session, kind: Kind, names: list[str]) -> set[str]:
    """Those of `names` that exist."""
    if not names:
        return set()
    return set(session.scalars(select(kind.row.name).where(or_(kind.row.name.in_(names)))))
