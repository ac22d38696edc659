"""One wave of a rollout, in bulk: new NS instances instantiated on many sites at once, or the
instances of an older version of the NSD moved to the rollout's version; one bulk write of the
sites' documents and one operation per site, like the single-NS operations."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import documents, software
from edgewise.central.orchestrator.instances import identity
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.occurrences import start
from edgewise.central.orchestrator.states import DEFAULT_TIMEOUT, UNFINISHED, NsState, OpType
from edgewise.central.services import notifications
from edgewise.central.services.catalog import CatalogKind
from edgewise.central.store.tables import (
    CatalogItemRow,
    NsInstanceRow,
    NsLcmOpOccRow,
    SiteRow,
    new_id,
)
from edgewise.tosca.siteservice import UNASSIGNED

Started = dict[str, tuple[str, str]]  # site -> (NS instance id, operation id)


def instantiate_each(
    session: Session,
    nsds: NsdModels,
    nsd_row: CatalogItemRow,
    sites: Sequence[SiteRow],
    *,
    name: str,
    tenant_id: str | None,
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> Started:
    """A new NS instance of the NSD on each site, instantiated at once."""
    nsd = nsds.load(nsd_row)
    vnfs = software.resolve(session, nsds, nsd_row, nsd, tenant_id)
    template = documents.service_entry(nsd, service_id=UNASSIGNED, name=name, software=vnfs)
    instances = {
        site.id: NsInstanceRow(
            id=new_id(),
            tenant_id=tenant_id,
            nsd_info_id=nsd_row.id,
            nsd_id=nsd_row.descriptor_id,
            name=f"{name}-{site.name}"[:255],
            description=f"rollout {name}",
            state=NsState.NOT_INSTANTIATED.value,
            flavour_id=nsd.flavour_id,
            site_ids=[site.id],
            scale_status={aspect.aspect_id: [] for aspect in nsd.scaling_aspects},
        )
        for site in sites
    }
    session.add_all(instances.values())
    nsd_row.usage_state = "IN_USE"
    session.flush()
    revisions, _ = documents.rewrite_each(
        session,
        {
            site.id: (ns.id, template | {"id": ns.id, "name": ns.name, "tenant": site.tenant_id})
            for site in sites
            for ns in (instances[site.id],)
        },
    )
    started: Started = {}
    for site_id, ns in instances.items():
        notifications.emit(session, ns, notifications.IDENTIFIER_CREATION, identity(ns))
        op = start(
            session, ns, OpType.INSTANTIATE, params={"nsFlavourId": nsd.flavour_id},
            targets={site_id: revisions[site_id]}, previous={site_id: None}, timeout=timeout,
        )  # fmt: skip
        started[site_id] = (ns.id, op.id)
    return started


def versions_on(
    session: Session,
    nsds: NsdModels,
    nsd_row: CatalogItemRow,
    tenant_id: str | None,
    site_ids: Collection[str],
) -> dict[str, NsInstanceRow]:
    """Per site of `site_ids`, the tenant's INSTANTIATED NS instance of a version of the NSD
    (its invariant id) that runs on that site alone: what a rollout of the NSD upgrades (for
    a provider's rollout, `tenant_id` None, the instance of whoever owns it)."""
    invariant = nsds.load(nsd_row).invariant_id
    versions = [
        row.id
        for row in session.scalars(
            select(CatalogItemRow).where(
                CatalogItemRow.kind == CatalogKind.NSD.value,
                CatalogItemRow.onboarding_state == "ONBOARDED",
                or_(CatalogItemRow.tenant_id.is_(None), CatalogItemRow.tenant_id == tenant_id),
            )
        )
        if row.content is not None and nsds.load(row).invariant_id == invariant
    ]
    wanted = set(site_ids)
    found: dict[str, NsInstanceRow] = {}
    query = select(NsInstanceRow).where(
        NsInstanceRow.nsd_info_id.in_(versions),
        NsInstanceRow.state == NsState.INSTANTIATED.value,
    )
    if tenant_id is not None:  # a provider's rollout takes any owner's instance on the site
        query = query.where(NsInstanceRow.tenant_id == tenant_id)
    for ns in session.scalars(query.order_by(NsInstanceRow.id)):
        sites = list(ns.site_ids)
        if len(sites) == 1 and sites[0] in wanted:
            found.setdefault(sites[0], ns)
    return found


def upgrade_each(
    session: Session,
    nsds: NsdModels,
    nsd_row: CatalogItemRow,
    instances: Sequence[NsInstanceRow],
    *,
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> Started:
    """Each NS instance (one site each) moved to the NSD version `nsd_row` at once (an
    ASSOC_NEW_NSD_VERSION update each). Instances with an operation in progress are left out."""
    busy = set(
        session.scalars(
            select(NsLcmOpOccRow.ns_instance_id).where(
                NsLcmOpOccRow.ns_instance_id.in_([ns.id for ns in instances]),
                NsLcmOpOccRow.state.in_([s.value for s in UNFINISHED]),
            )
        )
    )
    free = [ns for ns in instances if ns.id not in busy]
    nsd = nsds.load(nsd_row)
    current = documents.get_documents(session, [ns.site_ids[0] for ns in free])
    owners = {ns.tenant_id for ns in free}
    vnfs = software.resolve(session, nsds, nsd_row, nsd, owners.pop() if len(owners) == 1 else None)
    template = documents.service_entry(nsd, service_id=UNASSIGNED, name=UNASSIGNED, software=vnfs)
    changes: dict[str, tuple[str, dict[str, Any] | None]] = {}
    for ns in free:
        site_id = ns.site_ids[0]
        found = documents.entry(current[site_id].document, ns.id) or {}
        service = template | {"id": ns.id, "name": ns.name, "tenant": found.get("tenant")}
        changes[site_id] = (ns.id, service)
    revisions, previous = documents.rewrite_each(session, changes)
    nsd_row.usage_state = "IN_USE"
    params = {
        "updateType": "ASSOC_NEW_NSD_VERSION",
        "assocNewNsdVersionData": {"newNsdId": nsd_row.descriptor_id},
    }
    added = software.packages_used_by(session, [ns.id for ns in free])  # VNFs it drops
    started: Started = {}
    for ns in free:
        site_id = ns.site_ids[0]
        op = start(
            session, ns, OpType.UPDATE, params=params, targets={site_id: revisions[site_id]},
            previous={site_id: previous[site_id]}, timeout=timeout,
        )  # fmt: skip
        op.outcome = {"nsdInfoId": nsd_row.id, "nsdId": nsd_row.descriptor_id}
        if ns.id in added:
            op.outcome = op.outcome | {software.OUTCOME_KEY: added[ns.id]}
        started[site_id] = (ns.id, op.id)
    return started
