"""The NS lifecycle operations that change what sites run (SOL005 instantiate, update, heal,
terminate; scaling is in scaling.py): each writes, in one transaction, the next desired-state
revision of every site it touches and the operation occurrence that waits for them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import (
    autoscale_seed,
    chain,
    documents,
    instantiation_levels,
    software,
)
from edgewise.central.orchestrator.instances import get_row, unfinished
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.occurrences import start
from edgewise.central.orchestrator.placing import candidates, place
from edgewise.central.orchestrator.states import DEFAULT_TIMEOUT, NsState, OpType
from edgewise.central.orchestrator.views import LcmOperation
from edgewise.central.services.access import Principal, ensure_writable, visible
from edgewise.central.services.catalog import CatalogKind
from edgewise.central.services.errors import Conflict, InputProblem, Invalid, Unprocessable
from edgewise.central.store.tables import CatalogItemRow, NsInstanceRow, SiteRow
from edgewise.model import placement
from edgewise.model.functions import VnfFunction


@dataclass(frozen=True)
class Change:
    """An update: config properties per VNF name (merge-patched over the current ones), sites
    to add (ids or names) and sites to remove; or another version of the NSD."""

    vnf_configs: dict[str, dict[str, Any]]
    add_sites: tuple[str, ...] = ()
    remove_sites: tuple[str, ...] = ()
    new_nsd: str | None = None  # ASSOC_NEW_NSD_VERSION: the new version's NsdInfo id or nsdId
    config_paths: dict[str, str] = field(default_factory=dict)  # VNF name -> request field
    add_vnfs: tuple[chain.NewVnf, ...] = ()  # INSTANTIATE_VNF
    remove_vnfs: tuple[tuple[str, str], ...] = ()  # REMOVE_VNF: (VNF name, request field)

    def where(self) -> Mapping[str, str]:
        """The request field that changes each VNF (as problems name it)."""
        return {n: self.config_paths.get(n, f"modifyVnfInfoData[{n}]") for n in self.vnf_configs}


def instantiate(
    session: Session,
    principal: Principal,
    nsds: NsdModels,
    ns_id: str,
    *,
    flavour_id: str | None,
    placement: placement.Request,
    params: dict[str, Any],
    vnf_params: Mapping[str, software.VnfParams] | None = None,
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> LcmOperation:
    """Puts the NS on the placed sites: one new desired-state revision per site, one operation.
    `vnf_params`: the parameters of its third-party VNFs, by VNF profile."""
    row = for_operation(session, principal, ns_id, NsState.NOT_INSTANTIATED, "instantiate")
    nsd = nsds.of_instance(session, row)
    if flavour_id != nsd.flavour_id:
        why = "missing" if flavour_id is None else f"{flavour_id!r} is not a flavour of the NSD"
        raise Invalid(
            "the NS deployment flavour is not valid",
            [InputProblem("nsFlavourId", f"{why}; the NSD has {nsd.flavour_id!r}")],
        )
    nsd_row = session.get(CatalogItemRow, row.nsd_info_id)
    assert nsd_row is not None  # the foreign key keeps it
    vnfs = software.resolve(session, nsds, nsd_row, nsd, row.tenant_id, vnf_params)
    counts, refused = instantiation_levels.default_counts(session, nsds, nsd, row.tenant_id)
    if refused:
        raise Unprocessable("the NS cannot start at its VNFs' default levels", refused)
    slots = len(nsd.vnf_profiles) + sum(count - 1 for count in counts.values())
    sites = place(session, principal, row, nsd, placement, slots=slots if counts else None)
    service = documents.service_entry(nsd, service_id=row.id, name=row.name, software=vnfs)
    service = instantiation_levels.counted(service, counts)
    refused = instantiation_levels.contract_problems(service | {"tenant": sites[0].tenant_id},
                                                     counts) if sites else []  # fmt: skip
    if refused:
        raise Unprocessable("the NS cannot start at its VNFs' default levels", refused)
    targets, previous = documents.rewrite(
        session, row.id, {site.id: service | {"tenant": site.tenant_id} for site in sites}
    )
    row.flavour_id = flavour_id
    row.site_ids = [site.id for site in sites]
    row.scale_status = {aspect.aspect_id: [] for aspect in nsd.scaling_aspects}
    autoscale_seed.seed(session, principal, nsds, row, nsd)
    return _started(session, row, OpType.INSTANTIATE, params, targets, previous, timeout)


def heal(
    session: Session,
    principal: Principal,
    ns_id: str,
    *,
    params: dict[str, Any],
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> LcmOperation:
    """Every site gets a fresh revision of what it should run: its controller checks the whole
    service against the kernel and repairs what drifted (sites also heal on their own); the
    NS's third-party VNFs are restarted (their heal count moves on)."""
    row = for_operation(session, principal, ns_id, NsState.INSTANTIATED, "heal")
    targets, reissued = documents.reissue(session, row.site_ids, heal=row.id)
    previous = {s: documents.entry(reissued[s], row.id) for s in row.site_ids}
    return _started(session, row, OpType.HEAL, params, targets, previous, timeout)


def update(
    session: Session,
    principal: Principal,
    nsds: NsdModels,
    ns_id: str,
    *,
    change: Change,
    params: dict[str, Any],
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> LcmOperation:
    """Changes VNF configurations on every site of the NS, and/or adds and removes sites; or
    adds VNFs to its chain or removes some (orchestrator.chain); or moves it to another
    version of its NSD."""
    row = for_operation(session, principal, ns_id, NsState.INSTANTIATED, "update")
    if change.new_nsd is not None:
        return _to_version(session, principal, nsds, row, change.new_nsd, params=params,
                           timeout=timeout)  # fmt: skip
    if change.add_vnfs or change.remove_vnfs:
        edit = chain.ChainEdit(change.add_vnfs, change.remove_vnfs)
        op = chain.change_chain(session, principal, nsds, row, edit, params=params,
                                timeout=timeout)  # fmt: skip
        return LcmOperation.of(op)
    running = documents.running_entries(session, row.id, row.site_ids)
    where = change.where()
    configured: dict[str, dict[str, Any]] = {}  # the sites' entries differ by tenant at most

    def set_params(config: Mapping[str, Any], values: Mapping[str, Any], at: str) -> Any:
        return software.set_params(session, nsds, row.tenant_id, config, values, at)

    def reconfigured(found: dict[str, Any]) -> dict[str, Any]:
        key = json.dumps(found | {"tenant": ""}, sort_keys=True)
        if key not in configured:
            configured[key] = documents.configure_entry(found, change.vnf_configs, where,
                                                        set_params)  # fmt: skip
        return configured[key] | {"tenant": found.get("tenant")}

    entries: dict[str, dict[str, Any] | None] = {
        site: reconfigured(found) for site, found in running.items()
    }
    template = reconfigured(next(iter(running.values())))
    if change.add_sites:
        ask = placement.Request(slots=0, sites=change.add_sites)
        nsd = nsds.of_instance(session, row)
        slots = len(template["vnfs"])  # the VNFs it runs now: an update may have changed them
        for site in place(session, principal, row, nsd, ask, field="changeSitesData.add",
                          slots=slots):  # fmt: skip
            if site.id in entries:
                raise Invalid(
                    "the update adds a site the NS already runs on",
                    [InputProblem("changeSitesData.add", f"{site.name}: already a site of it")],
                )
            entries[site.id] = template | {"tenant": site.tenant_id}
    for ref in change.remove_sites:
        entries[_site_ref(session, row, ref)] = None
    targets, previous = documents.rewrite(session, row.id, entries)
    return _started(session, row, OpType.UPDATE, params, targets, previous, timeout)


def _to_version(
    session: Session,
    principal: Principal,
    nsds: NsdModels,
    ns: NsInstanceRow,
    ref: str,
    *,
    params: dict[str, Any],
    timeout: timedelta,
) -> LcmOperation:
    """Every site of the NS gets the service of another version of its NSD (the same
    invariant id); the NS instance is of that version once they all applied it."""
    new_row = new_version(session, principal, nsds, ns, ref)
    new_nsd = nsds.load(new_row)
    running = documents.running_entries(session, ns.id, ns.site_ids)
    carried = {
        vnf["name"]: software.VnfParams(
            vnf["config"].get("params", {}), "assocNewNsdVersionData.newNsdId"
        )
        for vnf in next(iter(running.values())).get("vnfs", [])
        if vnf["function"] == VnfFunction.SOFTWARE.value
        and any(p.node == vnf["name"] and p.function is None for p in new_nsd.vnf_profiles)
    }
    vnfs = software.resolve(session, nsds, new_row, new_nsd, ns.tenant_id, carried, carried=True)
    service = documents.service_entry(new_nsd, service_id=ns.id, name=ns.name, software=vnfs)
    needed = len(service["vnfs"])
    short = [
        f"{c.name}: {c.free} of {c.slots} VNF slots free; the new version needs {needed}"
        for c in candidates(session, principal, ns.id, ns.site_ids)
        if c.free < needed
    ]
    if short:
        raise Invalid(
            "the new NSD version does not fit on the NS's sites",
            [InputProblem("assocNewNsdVersionData.newNsdId", line) for line in short],
        )
    entries: dict[str, dict[str, Any] | None] = {
        site: service | {"tenant": found.get("tenant")} for site, found in running.items()
    }
    new_row.usage_state = "IN_USE"
    targets, previous = documents.rewrite(session, ns.id, entries)
    op = start(session, ns, OpType.UPDATE, params=params, targets=targets, previous=previous,
               timeout=timeout)  # fmt: skip
    op.outcome = {"nsdInfoId": new_row.id, "nsdId": new_row.descriptor_id} | _added(session, ns)
    session.flush()
    return LcmOperation.of(op)


def new_version(
    session: Session, principal: Principal, nsds: NsdModels, ns: NsInstanceRow, ref: str
) -> CatalogItemRow:
    """The NSD version `ref` names (its NsdInfo id or nsdId) for the NS instance: onboarded,
    enabled, visible, of the same invariant id as the NS's NSD, and not the one it runs."""
    where = "assocNewNsdVersionData.newNsdId"
    rows = session.scalars(
        select(CatalogItemRow).where(
            CatalogItemRow.kind == CatalogKind.NSD.value,
            or_(CatalogItemRow.id == ref, CatalogItemRow.descriptor_id == ref),
            visible(principal, CatalogItemRow, shared_rows=True),
        )
    ).all()
    usable = [r for r in rows if r.onboarding_state == "ONBOARDED" and r.content is not None]
    if not usable:
        why = f"{ref!r}: no onboarded NSD has this NsdInfo id or nsdId"
        raise Invalid("no such NSD version", [InputProblem(where, why)])
    invariant = nsds.of_instance(session, ns).invariant_id
    same = [r for r in usable if nsds.load(r).invariant_id == invariant]
    if not same:
        why = f"{ref!r} has another invariant id than the NS's NSD ({invariant!r})"
        raise Invalid("not a version of the NS's NSD", [InputProblem(where, why)])
    chosen = same[0]
    if chosen.id == ns.nsd_info_id:
        raise Invalid("nothing to change", [InputProblem(where, f"the NS already runs {ref!r}")])
    if chosen.operational_state != "ENABLED":
        raise Conflict(f"NSD {chosen.id} is DISABLED; enable it to move NS instances to it")
    if chosen.tenant_id is not None and chosen.tenant_id != ns.tenant_id:
        why = f"NSD {chosen.id} is private to another tenant"
        raise Invalid("the NSD belongs to another tenant", [InputProblem(where, why)])
    return chosen


def terminate(
    session: Session,
    principal: Principal,
    ns_id: str,
    *,
    params: dict[str, Any],
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> LcmOperation:
    """Takes the NS off every site it runs on."""
    row = for_operation(session, principal, ns_id, NsState.INSTANTIATED, "terminate")
    live = session.scalars(select(SiteRow.id).where(SiteRow.id.in_(row.site_ids))).all()
    targets, previous = documents.rewrite(session, row.id, dict.fromkeys(live))
    op = start(session, row, OpType.TERMINATE, params=params, targets=targets,
               previous=previous, timeout=timeout)  # fmt: skip
    op.outcome = _added(session, row) or None
    session.flush()
    return LcmOperation.of(op)


def _added(session: Session, ns: NsInstanceRow) -> dict[str, Any]:
    """An operation's outcome that has the tracker look at the packages of the VNFs added to
    the NS (INSTANTIATE_VNF) when it ends: a new NSD version's chain or a terminate drops them."""
    used = software.packages_used_by(session, [ns.id]).get(ns.id)
    return {software.OUTCOME_KEY: used} if used else {}


def for_operation(
    session: Session, principal: Principal, ns_id: str, state: NsState, action: str
) -> NsInstanceRow:
    """The NS instance, when the caller may change it, it is in `state` and no other operation
    of it is unfinished."""
    row = get_row(session, principal, ns_id)
    ensure_writable(principal, row, what="NS instance")
    busy = unfinished(session, ns_id)
    if busy is not None:
        raise Conflict(
            f"NS instance {ns_id} has operation {busy.id} ({busy.operation}) {busy.state}; "
            f"it must finish, be retried, rolled back or failed before another can start"
        )
    if row.state != state:
        raise Conflict(f"NS instance {ns_id} is {row.state}; it can {action} only when {state}")
    return row


def _started(  # noqa: PLR0917 - the fields of one operation, in the order start takes them
    session: Session,
    row: NsInstanceRow,
    operation: OpType,
    params: dict[str, Any],
    targets: dict[str, int],
    previous: dict[str, Any],
    timeout: timedelta,
) -> LcmOperation:
    op = start(session, row, operation, params=params, targets=targets, previous=previous,
               timeout=timeout)  # fmt: skip
    session.flush()
    return LcmOperation.of(op)


def _site_ref(session: Session, ns: NsInstanceRow, ref: str) -> str:
    for site_id in ns.site_ids:
        site = session.get(SiteRow, site_id)
        if site is not None and ref in (site.id, site.name):
            return site.id
    raise Invalid(
        "the update removes a site the NS does not run on",
        [InputProblem("changeSitesData.remove", f"{ref!r}: not a site of this NS instance")],
    )
