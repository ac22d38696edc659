"""Sites (on-premise boxes and cloud points of presence) and site groups of a tenant: the native
API's use cases; it gets views (`services.views`), enrollment and the other services get rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from edgewise.central.services.access import (
    Principal,
    ensure_writable,
    get_visible,
    owner_for_new,
    scoped,
    sees,
)
from edgewise.central.services.announce import site_credentials_changed
from edgewise.central.services.errors import Conflict, InputProblem, Invalid
from edgewise.central.services.paging import Page, encode_marker, fetch_page
from edgewise.central.services.tenants import get_tenant
from edgewise.central.services.views import Site, SiteGroup
from edgewise.central.store.tables import (
    DesiredStateRow,
    NsInstanceRow,
    NsLcmOpOccRow,
    SiteGroupMemberRow,
    SiteGroupRow,
    SiteRow,
)
from edgewise.model.sites import LabelSelector, SiteKind


@dataclass(frozen=True)
class SiteSpec:
    name: str
    kind: SiteKind
    labels: dict[str, str] = field(default_factory=dict)
    compute_nodes: int = 1
    slots_per_node: int | None = None
    description: str = ""
    tenant_id: str | None = None


@dataclass(frozen=True)
class SiteChanges:
    labels: dict[str, str] | None = None
    compute_nodes: int | None = None
    slots_per_node: int | None = None
    description: str | None = None


def create_site(session: Session, principal: Principal, spec: SiteSpec) -> SiteRow:
    """The new site's row: `enrollment.new_site` gives it its first token."""
    owner = owner_for_new(principal, spec.tenant_id, shared_allowed=False)
    get_tenant(session, principal, owner or "")
    if spec.kind is SiteKind.ON_PREMISE and spec.compute_nodes != 1:
        raise Invalid(
            "an on-premise site is one box",
            [InputProblem("computeNodes", "must be 1 for an on-premise site")],
        )
    _ensure_name_free(session, SiteRow, owner, spec.name, "site")
    row = SiteRow(
        tenant_id=owner,
        name=spec.name,
        kind=spec.kind.value,
        labels=dict(spec.labels),
        compute_nodes=spec.compute_nodes,
        slots_per_node=spec.slots_per_node or spec.kind.default_slots_per_node,
        description=spec.description,
    )
    session.add(row)
    session.flush()
    return row


def list_sites(
    session: Session,
    principal: Principal,
    *,
    kind: SiteKind | None = None,
    name: str | None = None,
    selector: LabelSelector | None = None,
    group_id: str | None = None,
    marker: str | None,
    limit: int,
) -> Page[Site]:
    query = scoped(select(SiteRow), principal, SiteRow).options(selectinload(SiteRow.status))
    if kind is not None:
        query = query.where(SiteRow.kind == kind.value)
    if name is not None:
        query = query.where(SiteRow.name == name)
    if group_id is not None:
        get_group(session, principal, group_id)
        query = query.join(SiteGroupMemberRow, SiteGroupMemberRow.site_id == SiteRow.id).where(
            SiteGroupMemberRow.group_id == group_id
        )
    if selector is None or not selector.required:
        found = fetch_page(session, query, (SiteRow.name, SiteRow.id), marker=marker, limit=limit)
    else:
        found = _filtered_page(session, query, selector, marker=marker, limit=limit)
    return found.map(Site.of)


def get_site(session: Session, principal: Principal, site_id: str) -> SiteRow:
    """The site's row if `principal` sees it (for enrollment); the API reads `read_site`."""
    return get_visible(session, SiteRow, site_id, principal, what="site")


def read_site(session: Session, principal: Principal, site_id: str) -> Site:
    return Site.of(get_site(session, principal, site_id))


def update_site(session: Session, principal: Principal, site_id: str, changes: SiteChanges) -> Site:
    row = get_site(session, principal, site_id)
    ensure_writable(principal, row, what="site")
    if changes.labels is not None:
        row.labels = dict(changes.labels)
    if changes.compute_nodes is not None:
        if row.kind == SiteKind.ON_PREMISE.value and changes.compute_nodes != 1:
            raise Invalid(
                "an on-premise site is one box",
                [InputProblem("computeNodes", "must be 1 for an on-premise site")],
            )
        row.compute_nodes = changes.compute_nodes
    if changes.slots_per_node is not None:
        row.slots_per_node = changes.slots_per_node
    if changes.description is not None:
        row.description = changes.description
    return Site.of(row)


def delete_site(session: Session, principal: Principal, site_id: str) -> None:
    """Deletes the site and its credentials; Conflict naming the NS instances whose services
    its desired state holds and the operations still moving there (a site is never deleted
    from under a service: the NS would keep a site that is gone, and the box would go on
    running the service unmanaged)."""
    row = get_site(session, principal, site_id)
    ensure_writable(principal, row, what="site")
    holders, operations = _users_of(session, site_id)
    if holders or operations:
        named = [f"{ns_id} ({name!r})" for ns_id, name in holders[:20]]
        detail = f"site {row.name} ({site_id}) is in use: "
        if holders:
            detail += f"NS instances {', '.join(named)} run there; terminate them, or move "
            detail += "them off the site (update CHANGE_SITES or scale in), first"
        if operations:
            detail += "; " if holders else ""
            detail += f"operations {', '.join(operations[:20])} are not finished there"
        raise Conflict(detail)
    session.delete(row)
    site_credentials_changed(session, site_id)


def _users_of(session: Session, site_id: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The NS instances (id, name) the site's desired state holds, and the unfinished LCM
    operations that wait for the site."""
    document = session.scalar(
        select(DesiredStateRow.document).where(DesiredStateRow.site_id == site_id)
    )
    entry_ids = [e.get("id") for e in (document or {}).get("services", []) if isinstance(e, dict)]
    holders = [
        (ns_id, name)
        for ns_id, name in session.execute(
            select(NsInstanceRow.id, NsInstanceRow.name)
            .where(NsInstanceRow.id.in_([i for i in entry_ids if isinstance(i, str)]))
            .order_by(NsInstanceRow.name)
        )
    ]
    unfinished = ("PROCESSING", "FAILED_TEMP", "ROLLING_BACK")
    operations = [
        op_id
        for op_id, targets in session.execute(
            select(NsLcmOpOccRow.id, NsLcmOpOccRow.targets).where(
                NsLcmOpOccRow.state.in_(unfinished)
            )
        )
        if site_id in (targets or {})
    ]
    return holders, operations


def create_group(
    session: Session,
    principal: Principal,
    name: str,
    site_ids: Sequence[str],
    *,
    description: str = "",
    tenant_id: str | None = None,
) -> SiteGroup:
    owner = owner_for_new(principal, tenant_id, shared_allowed=False)
    get_tenant(session, principal, owner or "")
    _ensure_name_free(session, SiteGroupRow, owner, name, "site group")
    row = SiteGroupRow(tenant_id=owner, name=name, description=description)
    row.members = _members(session, principal, owner, site_ids)
    session.add(row)
    session.flush()
    return SiteGroup.of(row)


def list_groups(
    session: Session, principal: Principal, *, marker: str | None, limit: int
) -> Page[SiteGroup]:
    query = scoped(select(SiteGroupRow), principal, SiteGroupRow)
    order = (SiteGroupRow.name, SiteGroupRow.id)
    return fetch_page(session, query, order, marker=marker, limit=limit).map(SiteGroup.of)


def get_group(session: Session, principal: Principal, group_id: str) -> SiteGroupRow:
    return get_visible(session, SiteGroupRow, group_id, principal, what="site group")


def read_group(session: Session, principal: Principal, group_id: str) -> SiteGroup:
    return SiteGroup.of(get_group(session, principal, group_id))


def update_group(
    session: Session,
    principal: Principal,
    group_id: str,
    *,
    site_ids: Sequence[str] | None,
    description: str | None,
) -> SiteGroup:
    row = get_group(session, principal, group_id)
    ensure_writable(principal, row, what="site group")
    if site_ids is not None:
        row.members = _members(session, principal, row.tenant_id, site_ids)
    if description is not None:
        row.description = description
    session.flush()
    return SiteGroup.of(row)


def delete_group(session: Session, principal: Principal, group_id: str) -> None:
    row = get_group(session, principal, group_id)
    ensure_writable(principal, row, what="site group")
    session.delete(row)


def _members(
    session: Session, principal: Principal, owner: str | None, site_ids: Sequence[str]
) -> list[SiteGroupMemberRow]:
    problems = []
    for index, site_id in enumerate(dict.fromkeys(site_ids)):
        site = session.get(SiteRow, site_id)
        if site is None or not sees(principal, site):
            problems.append(InputProblem(f"siteIds[{index}]", f"site {site_id} does not exist"))
        elif site.tenant_id != owner:
            problems.append(
                InputProblem(f"siteIds[{index}]", f"site {site_id} belongs to another tenant")
            )
    if problems:
        raise Invalid("some sites cannot be members of this group", problems)
    return [SiteGroupMemberRow(site_id=site_id) for site_id in dict.fromkeys(site_ids)]


def _ensure_name_free(
    session: Session,
    model: type[SiteRow] | type[SiteGroupRow],
    owner: str | None,
    name: str,
    what: str,
) -> None:
    taken = session.scalar(
        select(model.id).where(model.tenant_id == owner, model.name == name).limit(1)
    )
    if taken:
        raise Conflict(f"this tenant already has a {what} named {name!r}")


def _filtered_page(
    session: Session,
    query: Select[SiteRow],
    selector: LabelSelector,
    *,
    marker: str | None,
    limit: int,
) -> Page[SiteRow]:
    """Label selectors match in Python over name-ordered batches (JSON is not portable SQL)."""
    found: list[SiteRow] = []
    cursor = marker
    while True:
        batch = fetch_page(session, query, (SiteRow.name, SiteRow.id), marker=cursor, limit=500)
        for row in batch.items:
            if selector.matches(row.labels):
                found.append(row)
                if len(found) > limit:
                    last = found[limit - 1]
                    return Page(tuple(found[:limit]), encode_marker([last.name, last.id]))
        if batch.next_marker is None:
            return Page(tuple(found), None)
        cursor = batch.next_marker
