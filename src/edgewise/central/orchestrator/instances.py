"""NS instances (SOL005 NsInstance): created NOT_INSTANTIATED from an onboarded NSD, read within
the caller's scope, deleted when NOT_INSTANTIATED; the NSD is IN_USE while an instance is of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import documents
from edgewise.central.orchestrator.constituents import vnf_instances
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.states import UNFINISHED, NsState
from edgewise.central.orchestrator.views import NsInstance
from edgewise.central.services import notifications
from edgewise.central.services.access import (
    Principal,
    ensure_writable,
    get_visible,
    owner_for_new,
    visible,
)
from edgewise.central.services.alarms_operations import ns_instance_deleted
from edgewise.central.services.catalog import CatalogKind, get_item
from edgewise.central.services.errors import Conflict, InputProblem, Invalid
from edgewise.central.store.bulk import CHUNK, chunks
from edgewise.central.store.tables import (
    CatalogItemRow,
    NsInstanceRow,
    NsLcmOpOccRow,
    SiteRow,
    utcnow,
)


def create_instance(
    session: Session,
    principal: Principal,
    *,
    nsd_info_id: str,
    name: str,
    description: str,
    tenant_id: str | None = None,
) -> NsInstance:
    """A NOT_INSTANTIATED NS instance of an onboarded, enabled NSD (which becomes IN_USE)."""
    owner = owner_of_new_instance(session, principal, nsd_info_id, tenant_id)
    nsd = get_item(session, principal, CatalogKind.NSD, nsd_info_id)
    assert nsd.descriptor_id is not None  # onboarded
    row = NsInstanceRow(
        tenant_id=owner,
        nsd_info_id=nsd.id,
        nsd_id=nsd.descriptor_id,
        name=name,
        description=description,
        state=NsState.NOT_INSTANTIATED.value,
    )
    session.add(row)
    nsd.usage_state = "IN_USE"
    session.flush()
    notifications.emit(session, row, notifications.IDENTIFIER_CREATION, identity(row))
    return NsInstance.of(row)


def owner_of_new_instance(
    session: Session, principal: Principal, nsd_info_id: str, tenant_id: str | None
) -> str | None:
    """The tenant of a new NS instance of the NSD; refuses an NSD that cannot be used."""
    nsd = get_item(session, principal, CatalogKind.NSD, nsd_info_id)
    if nsd.onboarding_state != "ONBOARDED" or nsd.descriptor_id is None:
        raise Conflict(f"NSD {nsd_info_id} is {nsd.onboarding_state}; onboard its content first")
    if nsd.operational_state != "ENABLED":
        raise Conflict(f"NSD {nsd_info_id} is DISABLED; enable it to create NS instances from it")
    owner = owner_for_new(principal, tenant_id, shared_allowed=True)
    if nsd.tenant_id is not None and owner != nsd.tenant_id:
        raise Invalid(
            "the NSD belongs to another tenant",
            [InputProblem("nsdId", f"NSD {nsd_info_id} is private to tenant {nsd.tenant_id}")],
        )
    return owner


def get_row(session: Session, principal: Principal, ns_id: str) -> NsInstanceRow:
    return get_visible(session, NsInstanceRow, ns_id, principal, what="NS instance")


def read_instance(
    session: Session, principal: Principal, ns_id: str, nsds: NsdModels | None = None
) -> NsInstance:
    """The NS instance; with `nsds`, with its VNF instances."""
    row = get_row(session, principal, ns_id)
    if nsds is None:
        return NsInstance.of(row)
    return NsInstance.of(row, vnf_instances(session, nsds, [row])[row.id])


def list_instances(
    session: Session, principal: Principal, nsds: NsdModels | None = None
) -> list[NsInstance]:
    """Every NS instance the caller sees, by id (the API filters and pages them, SOL013);
    with `nsds`, with their VNF instances (a read of one site's document per NS)."""
    query = select(NsInstanceRow).where(visible(principal, NsInstanceRow))
    rows = list(session.scalars(query.order_by(NsInstanceRow.id)))
    if nsds is None:
        return [NsInstance.of(row) for row in rows]
    vnfs: dict[str, Any] = {}
    for start in range(0, len(rows), CHUNK):
        vnfs |= vnf_instances(session, nsds, rows[start : start + CHUNK])
    return [NsInstance.of(row, vnfs[row.id]) for row in rows]


def delete_instance(session: Session, principal: Principal, ns_id: str) -> None:
    """Deletes a NOT_INSTANTIATED NS instance; its NSD is NOT_IN_USE again when it was the last."""
    row = get_row(session, principal, ns_id)
    ensure_writable(principal, row, what="NS instance")
    if row.state != NsState.NOT_INSTANTIATED or unfinished(session, row.id) is not None:
        raise Conflict(
            f"NS instance {ns_id} is {row.state}; terminate it before deleting it"
            if row.state != NsState.NOT_INSTANTIATED
            else f"NS instance {ns_id} has an operation in progress"
        )
    nsd_info_id = row.nsd_info_id
    leftovers = session.scalars(select(SiteRow.id).where(SiteRow.id.in_(row.site_ids))).all()
    if leftovers:  # a failed instantiation may have left the service on some sites
        documents.rewrite(session, row.id, dict.fromkeys(leftovers))
    notifications.emit(session, row, notifications.IDENTIFIER_DELETION, identity(row))
    ns_instance_deleted(session, row.id, utcnow())
    session.delete(row)
    release(session, nsd_info_id)


def unfinished(session: Session, ns_id: str) -> NsLcmOpOccRow | None:
    """The NS instance's operation that has not ended (at most one at a time)."""
    return session.scalars(
        select(NsLcmOpOccRow).where(
            NsLcmOpOccRow.ns_instance_id == ns_id,
            NsLcmOpOccRow.state.in_([s.value for s in UNFINISHED]),
        )
    ).first()


def release(session: Session, nsd_info_id: str) -> None:
    """The NSD is NOT_IN_USE again when no NS instance is of it."""
    session.flush()
    users = session.scalar(
        select(func.count())
        .select_from(NsInstanceRow)
        .where(NsInstanceRow.nsd_info_id == nsd_info_id)
    )
    row = session.get(CatalogItemRow, nsd_info_id)
    if row is not None and not users:
        row.usage_state = "NOT_IN_USE"


def associate(
    session: Session, nsds: NsdModels, ns: NsInstanceRow, nsd_info_id: str, nsd_id: str
) -> None:
    """The NS instance is now of that NSD version; the old one is NOT_IN_USE when it was its
    last instance; scaling aspects of the new version start at what the NS had of them."""
    old = ns.nsd_info_id
    ns.nsd_info_id, ns.nsd_id = nsd_info_id, nsd_id
    new_row = session.get(CatalogItemRow, nsd_info_id)
    if new_row is not None:
        new_row.usage_state = "IN_USE"
        status = ns.scale_status or {}
        ns.scale_status = {
            a.aspect_id: status.get(a.aspect_id, []) for a in nsds.load(new_row).scaling_aspects
        }
    release(session, old)


def rows_by_id(session: Session, ns_ids: Sequence[str]) -> dict[str, NsInstanceRow]:
    """The NS instances, read in a few queries (they stay in the session's identity map)."""
    found: dict[str, NsInstanceRow] = {}
    for chunk in chunks(list(dict.fromkeys(ns_ids))):
        query = select(NsInstanceRow).where(NsInstanceRow.id.in_(chunk))
        found.update((row.id, row) for row in session.scalars(query))
    return found


def identity(ns: NsInstanceRow) -> dict[str, Any]:
    """What the identifier creation and deletion notifications say of the NS instance."""
    return {"nsInstanceId": ns.id, "_links": {"nsInstance": href(ns.id)}}


def href(ns_id: str) -> dict[str, str]:
    return {"href": f"/nslcm/v1/ns_instances/{ns_id}"}
