"""Network service life cycle (SOL005 NS LCM): NS instances, and the operations that put them
on sites and take them off, tracked until every site involved has reported.

An operation writes, in the same transaction, the new desired state of every site it touches
(the NS becomes, or stops being, one service of each site's document) and its occurrence
with the revision it waits for at each site (`targets`). `advance` — run by every replica
on a timer — moves PROCESSING occurrences on from the sites' recorded reports: COMPLETED
once every site has applied its revision, FAILED_TEMP when a site reports the service failed
or the deadline passes. Everything lives in the store, so a central killed in the middle of
an operation picks it up where it was when it starts again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from edgewise.central.services import notifications, site_channel
from edgewise.central.services.access import (
    Principal,
    ensure_writable,
    get_visible,
    owner_for_new,
    visible,
)
from edgewise.central.services.catalog import CatalogKind, get_item
from edgewise.central.services.errors import Conflict, InputProblem, Invalid, Unprocessable
from edgewise.central.store.tables import (
    CatalogItemRow,
    DesiredStateRow,
    NsInstanceRow,
    NsLcmOpOccRow,
    SiteRow,
    SiteStatusRow,
    new_id,
    utcnow,
)
from edgewise.model import placement
from edgewise.model.fields import DocumentError, merge_patch
from edgewise.model.functions import VnfFunction, config_document, read_config
from edgewise.model.sites import SiteKind
from edgewise.tosca import load_bytes
from edgewise.tosca.model import Nsd
from edgewise.tosca.siteservice import UNASSIGNED, NotDeployable, service_from_nsd

DEFAULT_TIMEOUT = timedelta(minutes=5)


class NsState(StrEnum):
    NOT_INSTANTIATED = "NOT_INSTANTIATED"
    INSTANTIATED = "INSTANTIATED"


class OpState(StrEnum):
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED_TEMP = "FAILED_TEMP"
    FAILED = "FAILED"
    ROLLING_BACK = "ROLLING_BACK"
    ROLLED_BACK = "ROLLED_BACK"


class OpType(StrEnum):
    INSTANTIATE = "INSTANTIATE"
    SCALE = "SCALE"
    UPDATE = "UPDATE"
    HEAL = "HEAL"
    TERMINATE = "TERMINATE"


UNFINISHED = (OpState.PROCESSING, OpState.FAILED_TEMP, OpState.ROLLING_BACK)


# NS instances


def create_instance(
    session: Session,
    principal: Principal,
    *,
    nsd_info_id: str,
    name: str,
    description: str,
    tenant_id: str | None = None,
) -> NsInstanceRow:
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
    notifications.emit(session, row, notifications.IDENTIFIER_CREATION, _identity(row))
    return row


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


def get_instance(session: Session, principal: Principal, ns_id: str) -> NsInstanceRow:
    return get_visible(session, NsInstanceRow, ns_id, principal, what="NS instance")


def list_instances(session: Session, principal: Principal) -> Sequence[NsInstanceRow]:
    """Every NS instance the caller sees, by id (the API filters and pages them, SOL013)."""
    query = select(NsInstanceRow).where(visible(principal, NsInstanceRow))
    return session.scalars(query.order_by(NsInstanceRow.id)).all()


def delete_instance(session: Session, principal: Principal, ns_id: str) -> None:
    """Deletes a NOT_INSTANTIATED NS instance; its NSD is NOT_IN_USE again when it was the last."""
    row = get_instance(session, principal, ns_id)
    ensure_writable(principal, row, what="NS instance")
    if row.state != NsState.NOT_INSTANTIATED or _unfinished(session, row.id) is not None:
        raise Conflict(
            f"NS instance {ns_id} is {row.state}; terminate it before deleting it"
            if row.state != NsState.NOT_INSTANTIATED
            else f"NS instance {ns_id} has an operation in progress"
        )
    nsd_info_id = row.nsd_info_id
    leftovers = session.scalars(select(SiteRow.id).where(SiteRow.id.in_(row.site_ids))).all()
    if leftovers:  # a failed instantiation may have left the service on some sites
        _rewrite(session, row.id, dict.fromkeys(leftovers))
    notifications.emit(session, row, notifications.IDENTIFIER_DELETION, _identity(row))
    session.delete(row)
    _release(session, nsd_info_id)


# operations


def instantiate(
    session: Session,
    principal: Principal,
    ns_id: str,
    *,
    flavour_id: str | None,
    placement: placement.Request,
    params: dict[str, Any],
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> NsLcmOpOccRow:
    """Puts the NS on the placed sites: one new desired-state revision per site, one operation."""
    row = _for_operation(session, principal, ns_id, NsState.NOT_INSTANTIATED, "instantiate")
    nsd = _nsd_of(session, row)
    if flavour_id != nsd.flavour_id:
        why = "missing" if flavour_id is None else f"{flavour_id!r} is not a flavour of the NSD"
        raise Invalid(
            "the NS deployment flavour is not valid",
            [InputProblem("nsFlavourId", f"{why}; the NSD has {nsd.flavour_id!r}")],
        )
    sites = _place(session, principal, row, nsd, placement)
    try:
        service = service_from_nsd(nsd, service_id=row.id, name=row.name, tenant=UNASSIGNED)
    except NotDeployable as exc:
        raise Invalid(
            f"NSD {row.nsd_id} cannot run on a site",
            [InputProblem("nsdId", problem) for problem in exc.problems],
        ) from exc
    document = service.to_document()
    targets, previous = _rewrite(
        session, row.id, {site.id: document | {"tenant": site.tenant_id} for site in sites}
    )
    row.flavour_id = flavour_id
    row.site_ids = [site.id for site in sites]
    row.scale_status = {aspect.aspect_id: [] for aspect in nsd.scaling_aspects}
    return _start(
        session, row, OpType.INSTANTIATE, params=params, targets=targets, previous=previous,
        timeout=timeout,
    )  # fmt: skip


def heal(
    session: Session,
    principal: Principal,
    ns_id: str,
    *,
    params: dict[str, Any],
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> NsLcmOpOccRow:
    """Every site gets a fresh revision of what it should run: its controller checks the whole
    service against the kernel and repairs what drifted (sites also heal on their own)."""
    row = _for_operation(session, principal, ns_id, NsState.INSTANTIATED, "heal")
    current = site_channel.get_documents(session, row.site_ids)
    entries = {s: _entry(current[s].document, row.id) for s in row.site_ids}
    targets, previous = _rewrite(session, row.id, entries)
    return _start(
        session, row, OpType.HEAL, params=params, targets=targets, previous=previous,
        timeout=timeout,
    )  # fmt: skip


def update_ns(
    session: Session,
    principal: Principal,
    ns_id: str,
    *,
    change: Change,
    params: dict[str, Any],
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> NsLcmOpOccRow:
    """Changes VNF configurations on every site of the NS, and/or adds and removes sites; or
    moves it to another version of its NSD."""
    row = _for_operation(session, principal, ns_id, NsState.INSTANTIATED, "update")
    if change.new_nsd is not None:
        return _to_version(session, principal, row, change.new_nsd, params=params, timeout=timeout)
    running = _running_entries(session, row)
    entries: dict[str, dict[str, Any] | None] = {
        site: configure_entry(entry, change) for site, entry in running.items()
    }
    template = configure_entry(next(iter(running.values())), change)
    if change.add_sites:
        ask = placement.Request(slots=0, sites=change.add_sites)
        for site in _place(session, principal, row, _nsd_of(session, row), ask):
            if site.id in entries:
                raise Invalid(
                    "the update adds a site the NS already runs on",
                    [InputProblem("changeSitesData.add", f"{site.name}: already a site of it")],
                )
            entries[site.id] = template | {"tenant": site.tenant_id}
    for ref in change.remove_sites:
        site_id = _site_ref(session, row, ref)
        entries[site_id] = None
    targets, previous = _rewrite(session, row.id, entries)
    return _start(
        session, row, OpType.UPDATE, params=params, targets=targets, previous=previous,
        timeout=timeout,
    )  # fmt: skip


def _to_version(
    session: Session,
    principal: Principal,
    ns: NsInstanceRow,
    ref: str,
    *,
    params: dict[str, Any],
    timeout: timedelta,
) -> NsLcmOpOccRow:
    """Every site of the NS gets the service of another version of its NSD (the same
    invariant id); the NS instance is of that version once they all applied it."""
    new_row = new_version(session, principal, ns, ref)
    service = _service(load_nsd(new_row), ns)
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
        site: service | {"tenant": entry.get("tenant")}
        for site, entry in _running_entries(session, ns).items()
    }
    new_row.usage_state = "IN_USE"
    targets, previous = _rewrite(session, ns.id, entries)
    op = _start(
        session, ns, OpType.UPDATE, params=params, targets=targets, previous=previous,
        timeout=timeout,
    )  # fmt: skip
    op.outcome = {"nsdInfoId": new_row.id, "nsdId": new_row.descriptor_id}
    return op


def new_version(
    session: Session, principal: Principal, ns: NsInstanceRow, ref: str
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
    invariant = _nsd_of(session, ns).invariant_id
    same = [r for r in usable if load_nsd(r).invariant_id == invariant]
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


def _service(nsd: Nsd, ns: NsInstanceRow) -> dict[str, Any]:
    """The site service of `nsd` for the NS instance (without the site's tenant)."""
    try:
        return service_from_nsd(
            nsd, service_id=ns.id, name=ns.name, tenant=UNASSIGNED
        ).to_document()
    except NotDeployable as exc:
        raise Invalid(
            f"NSD {nsd.descriptor_id} cannot run on a site",
            [InputProblem("nsdId", problem) for problem in exc.problems],
        ) from exc


def _release(session: Session, nsd_info_id: str) -> None:
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


def _associate(session: Session, ns: NsInstanceRow, nsd_info_id: str, nsd_id: str) -> None:
    """The NS instance is now of that NSD version; the old one is NOT_IN_USE when it was its
    last instance; scaling aspects of the new version start at what the NS had of them."""
    old = ns.nsd_info_id
    ns.nsd_info_id, ns.nsd_id = nsd_info_id, nsd_id
    new_row = session.get(CatalogItemRow, nsd_info_id)
    if new_row is not None:
        new_row.usage_state = "IN_USE"
        status = ns.scale_status or {}
        ns.scale_status = {
            a.aspect_id: status.get(a.aspect_id, []) for a in load_nsd(new_row).scaling_aspects
        }
    _release(session, old)


@dataclass(frozen=True)
class Change:
    """An update: config properties per VNF name (merge-patched over the current ones), sites
    to add (ids or names) and sites to remove."""

    vnf_configs: dict[str, dict[str, Any]]
    add_sites: tuple[str, ...] = ()
    remove_sites: tuple[str, ...] = ()
    new_nsd: str | None = None  # ASSOC_NEW_NSD_VERSION: the new version's NsdInfo id or nsdId
    config_paths: dict[str, str] = field(default_factory=dict)  # VNF name -> request field

    def where(self, vnf_name: str) -> str:
        """The request field that changes the VNF (as problems name it)."""
        return self.config_paths.get(vnf_name, f"modifyVnfInfoData[{vnf_name}]")


def _running_entries(session: Session, ns: NsInstanceRow) -> dict[str, dict[str, Any]]:
    """The NS's service entry at each of its sites whose desired state holds it; Conflict when
    none does (there is nothing to change or copy)."""
    current = site_channel.get_documents(session, ns.site_ids)
    running = {
        site: entry
        for site in ns.site_ids
        if (entry := _entry(current[site].document, ns.id)) is not None
    }
    if not running:
        raise Conflict(f"NS instance {ns.id} runs on no site; instantiate it again instead")
    return running


def _nsd_of(session: Session, ns: NsInstanceRow) -> Nsd:
    """The model of the NSD the NS instance is of."""
    row = session.get(CatalogItemRow, ns.nsd_info_id)
    assert row is not None  # the foreign key keeps it
    return load_nsd(row)


def _entry(document: dict[str, Any], ns_id: str) -> dict[str, Any] | None:
    return next((e for e in document.get("services", []) if e.get("id") == ns_id), None)


def configure_entry(entry: dict[str, Any], change: Change) -> dict[str, Any]:
    """The service entry with each named VNF's config merge-patched (RFC 7396) with its new
    properties, read through the desired-state contract: Invalid naming every bad field."""
    configs = change.vnf_configs
    names = {v["name"] for v in entry.get("vnfs", [])}
    unknown = sorted(set(configs) - names)
    if unknown:
        raise Invalid(
            "the update names VNFs the NS does not have",
            [
                InputProblem(
                    change.where(name), f"{name!r}: the NS's VNFs are " + ", ".join(sorted(names))
                )
                for name in unknown
            ],
        )
    vnfs = []
    problems: list[InputProblem] = []
    for vnf in entry.get("vnfs", []):
        if vnf["name"] not in configs:
            vnfs.append(vnf)
            continue
        function = VnfFunction(vnf["function"])
        patched = merge_patch(vnf.get("config", {}), configs[vnf["name"]])
        where = f"{change.where(vnf['name'])}.vnfConfigurableProperties"
        try:
            config = read_config(function, patched)
        except DocumentError as exc:
            problems += [InputProblem(f"{where}.{p.where}", p.message) for p in exc.problems]
            continue
        vnfs.append(vnf | {"config": config_document(config)})
    if problems:
        raise Unprocessable("the new VNF configuration is not valid", problems)
    return entry | {"vnfs": vnfs}


def _site_ref(session: Session, ns: NsInstanceRow, ref: str) -> str:
    for site_id in ns.site_ids:
        site = session.get(SiteRow, site_id)
        if site is not None and ref in (site.id, site.name):
            return site.id
    raise Invalid(
        "the update removes a site the NS does not run on",
        [InputProblem("changeSitesData.remove", f"{ref!r}: not a site of this NS instance")],
    )


@dataclass(frozen=True)
class ScaleChange:
    """A SCALE_NS request: the level each named NS scaling aspect goes to (by steps, resolved
    against the current levels, or absolute), and where new sites may come from."""

    steps: dict[str, int]  # aspect -> signed steps (out > 0, in < 0); or
    levels: dict[str, int]  # aspect -> absolute level
    placement: placement.Request | None = None
    placement_from: str = "scaleNsData.additionalParamsForNs"  # where the placement was given


def scale(
    session: Session,
    principal: Principal,
    ns_id: str,
    *,
    change: ScaleChange,
    params: dict[str, Any],
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> NsLcmOpOccRow:
    """Scales the NS by sites: an Edgewise site runs one instance of each VNF of the NS, so a
    step of an NS scaling aspect out runs the whole chain on one more site (chosen by the
    placement given, or the one the NS was instantiated with), and a step in takes it off the
    site that aspect added last. The aspect's level is the count of sites it added."""
    row = _for_operation(session, principal, ns_id, NsState.INSTANTIATED, "scale")
    nsd = _nsd_of(session, row)
    plan, added, removed = _scale_plan(row, nsd, change)
    entries: dict[str, dict[str, Any] | None] = dict.fromkeys(removed)
    if added:
        ask = change.placement
        if ask is None:
            raise Invalid(
                "the NS cannot be scaled out",
                [InputProblem("scaleNsData.additionalParamsForNs", "no placement: name the sites "
                              "to add (sites) or give criteria (placement); the NS was not "
                              "instantiated with criteria to reuse")],
            )  # fmt: skip
        count = None if ask.explicit else added
        ask = replace(ask, count=count, exclude=frozenset(row.site_ids))
        if ask.explicit and len(ask.sites) != added:
            raise Invalid(
                "the NS cannot be scaled out",
                [InputProblem("scaleNsData.additionalParamsForNs.sites",
                              f"names {len(ask.sites)} sites; the scaling adds {added}")],
            )  # fmt: skip
        new_sites = _place(session, principal, row, nsd, ask, where=change.placement_from)
        template = next(iter(_running_entries(session, row).values()))
        for site in new_sites:
            entries[site.id] = template | {"tenant": site.tenant_id}
        growing = iter(site.id for site in new_sites)
        plan = {a: [s or next(growing) for s in sites] for a, sites in plan.items()}
    targets, previous = _rewrite(session, row.id, entries)
    op = _start(
        session, row, OpType.SCALE, params=params, targets=targets, previous=previous,
        timeout=timeout,
    )  # fmt: skip
    op.outcome = {"scaleStatus": plan}
    return op


def instantiation_params(session: Session, ns_id: str) -> dict[str, Any]:
    """The request of the NS instance's last completed INSTANTIATE (its placement is what a
    scale-out reuses when it gives none)."""
    op = session.scalars(
        select(NsLcmOpOccRow)
        .where(
            NsLcmOpOccRow.ns_instance_id == ns_id,
            NsLcmOpOccRow.operation == OpType.INSTANTIATE.value,
            NsLcmOpOccRow.state == OpState.COMPLETED.value,
        )
        .order_by(NsLcmOpOccRow.start_time.desc())
    ).first()
    return dict(op.operation_params) if op is not None else {}


def _scale_plan(
    ns: NsInstanceRow, nsd: Nsd, change: ScaleChange
) -> tuple[dict[str, list[str]], int, list[str]]:
    """The aspects' site lists after the scaling ("" for a site still to place), how many
    sites it adds, and the sites it takes the NS off; Invalid naming each impossible aspect."""
    aspects = {a.aspect_id: a for a in nsd.scaling_aspects}
    where = "scaleNsData.scaleNsByStepsData" if change.steps else "scaleNsData.scaleNsToLevelData"
    if not aspects:
        raise Invalid(
            "the NS cannot be scaled",
            [InputProblem(where, f"NSD {nsd.descriptor_id} declares no NS scaling aspect")],
        )
    status = scale_levels(ns, nsd)
    wanted = {a: len(status[a]) + n for a, n in change.steps.items() if a in aspects}
    wanted |= {a: level for a, level in change.levels.items() if a in aspects}
    problems = [
        InputProblem(f"{where}.aspectId", f"{a!r}: the NSD's aspects are " + ", ".join(aspects))
        for a in [*change.steps, *change.levels]
        if a not in aspects
    ]
    for aspect_id, level in wanted.items():
        top = aspects[aspect_id].max_scale_level
        if not 0 <= level <= top:
            problems.append(InputProblem(
                where, f"aspect {aspect_id!r} would go to level {level}, outside 0..{top} "
                f"(it is at {len(status[aspect_id])})"))  # fmt: skip
    if not problems and all(len(status[a]) == level for a, level in wanted.items()):
        problems.append(InputProblem(where, "nothing to scale: every aspect is at that level"))
    if problems:
        raise Invalid("the NS cannot be scaled", problems)
    plan: dict[str, list[str]] = {}
    added, removed = 0, []
    for aspect_id, sites in status.items():
        level = wanted.get(aspect_id, len(sites))
        plan[aspect_id] = [*sites[:level], *[""] * (level - len(sites))]
        added += max(0, level - len(sites))
        removed.extend(sites[level:])
    return plan, added, removed


def scale_levels(ns: NsInstanceRow, nsd: Nsd) -> dict[str, list[str]]:
    """Each NS scaling aspect of the NSD with the sites its steps added that the NS still
    runs on (its level is their count)."""
    running = set(ns.site_ids)
    status = ns.scale_status or {}
    return {
        a.aspect_id: [s for s in status.get(a.aspect_id, []) if s in running]
        for a in nsd.scaling_aspects
    }


def continue_(session: Session, principal: Principal, op_id: str) -> NsLcmOpOccRow:
    """FAILED_TEMP -> PROCESSING: waits again (a new deadline) without re-issuing anything —
    for sites that were only slow or cut off."""
    op, ns = _op_in(session, principal, op_id, (OpState.FAILED_TEMP,), "continued")
    return _restart(session, ns, op, OpState.PROCESSING, DEFAULT_TIMEOUT)


def terminate(
    session: Session,
    principal: Principal,
    ns_id: str,
    *,
    params: dict[str, Any],
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> NsLcmOpOccRow:
    """Takes the NS off every site it runs on."""
    row = _for_operation(session, principal, ns_id, NsState.INSTANTIATED, "terminate")
    live = session.scalars(select(SiteRow.id).where(SiteRow.id.in_(row.site_ids))).all()
    targets, previous = _rewrite(session, row.id, dict.fromkeys(live))
    return _start(
        session, row, OpType.TERMINATE, params=params, targets=targets, previous=previous,
        timeout=timeout,
    )  # fmt: skip


def retry(
    session: Session, principal: Principal, op_id: str, *, timeout: timedelta = DEFAULT_TIMEOUT
) -> NsLcmOpOccRow:
    """FAILED_TEMP -> PROCESSING: the sites that had not applied it get a fresh revision of
    the same desired state, and a new deadline."""
    op, ns = _op_in(session, principal, op_id, (OpState.FAILED_TEMP,), "retried")
    progress = _progress(session, op)
    again = [*progress.failed, *progress.pending]
    current = site_channel.get_documents(session, again)
    revisions = site_channel.write_documents(
        session, current, {site_id: current[site_id].document for site_id in again}
    )
    op.targets = dict(op.targets) | revisions
    return _restart(session, ns, op, OpState.PROCESSING, timeout)


def rollback(
    session: Session, principal: Principal, op_id: str, *, timeout: timedelta = DEFAULT_TIMEOUT
) -> NsLcmOpOccRow:
    """FAILED_TEMP -> ROLLING_BACK: every site involved gets back what it ran before the
    operation; ROLLED_BACK once they all report it applied."""
    op, ns = _op_in(session, principal, op_id, (OpState.FAILED_TEMP,), "rolled back")
    before = {site_id: op.previous.get(site_id) for site_id in op.targets}
    live = set(session.scalars(select(SiteRow.id).where(SiteRow.id.in_(list(before)))).all())
    targets, _ = _rewrite(session, ns.id, {s: v for s, v in before.items() if s in live})
    op.targets = targets
    return _restart(session, ns, op, OpState.ROLLING_BACK, timeout)


def fail(session: Session, principal: Principal, op_id: str) -> NsLcmOpOccRow:
    """FAILED_TEMP -> FAILED: given up for good; the sites keep what they run, and the NS
    instance's sites become those whose desired state holds it (so that a terminate or a
    delete later takes it off every one, a site a failed scale-out reached included)."""
    op, ns = _op_in(session, principal, op_id, (OpState.FAILED_TEMP,), "marked as failed")
    ns.site_ids = _sites_running(session, ns, op)
    op.state = OpState.FAILED.value
    op.state_entered_time = utcnow()
    session.flush()
    _announce(session, ns, op, "RESULT")
    return op


def cancel(session: Session, principal: Principal, op_id: str) -> NsLcmOpOccRow:
    """PROCESSING or ROLLING_BACK -> FAILED_TEMP at once (the sites finish the revision they
    hold; retry, rollback or fail decide what happens next)."""
    op, ns = _op_in(
        session, principal, op_id, (OpState.PROCESSING, OpState.ROLLING_BACK), "cancelled"
    )
    op.state = OpState.FAILED_TEMP.value
    op.state_entered_time = utcnow()
    op.error = {"status": 409, "title": "cancelled", "detail": "the operation was cancelled"}
    session.flush()
    _announce(session, ns, op, "RESULT")
    return op


def _op_in(
    session: Session,
    principal: Principal,
    op_id: str,
    states: tuple[OpState, ...],
    action: str,
) -> tuple[NsLcmOpOccRow, NsInstanceRow]:
    op = get_operation(session, principal, op_id)
    ensure_writable(principal, op, what="NS LCM operation occurrence")
    if op.state not in states:
        allowed = " or ".join(s.value for s in states)
        raise Conflict(f"operation {op_id} is {op.state}; it can be {action} only when {allowed}")
    ns = session.get(NsInstanceRow, op.ns_instance_id)
    assert ns is not None  # deleting an NS deletes its operations
    return op, ns


def _restart(
    session: Session, ns: NsInstanceRow, op: NsLcmOpOccRow, state: OpState, timeout: timedelta
) -> NsLcmOpOccRow:
    now = utcnow()
    op.state = state.value
    op.state_entered_time = now
    op.deadline = now + timeout
    op.error = None
    op.sites_done = 0
    session.flush()
    _announce(session, ns, op, "START")
    return op


def get_operation(session: Session, principal: Principal, op_id: str) -> NsLcmOpOccRow:
    return get_visible(session, NsLcmOpOccRow, op_id, principal, what="NS LCM operation occurrence")


def list_operations(session: Session, principal: Principal) -> Sequence[NsLcmOpOccRow]:
    """Every operation occurrence the caller sees, by id (filtered and paged by the API)."""
    query = select(NsLcmOpOccRow).where(visible(principal, NsLcmOpOccRow))
    return session.scalars(query.order_by(NsLcmOpOccRow.id)).all()


def advance(session: Session, now: datetime | None = None, *, limit: int = 20000) -> list[str]:
    """Moves PROCESSING occurrences on from the sites' reports; returns the ids it finished.

    Reads plain columns (no ORM objects for the operations still waiting: a rollout's wave is
    thousands of them, looked at on every report), and finishes in bulk. Safe to run on every
    replica at once: a finish is a conditional UPDATE ... RETURNING that only one replica's
    transaction can win for each operation.
    """
    moment = now or utcnow()
    moving = (OpState.PROCESSING.value, OpState.ROLLING_BACK.value)
    t = NsLcmOpOccRow
    operations = session.execute(
        select(
            t.id, t.state, t.targets, t.deadline, t.sites_done, t.ns_instance_id, t.operation,
            t.outcome,
        )
        .where(t.state.in_(moving))
        .limit(limit)
    ).all()  # fmt: skip
    statuses = _statuses(session, [site for op in operations for site in op.targets])
    outcomes: dict[str, Ending] = {}
    moved: list[dict[str, Any]] = []
    for op in operations:
        progress = _progress_of(op.ns_instance_id, op.targets, statuses)
        if progress.pending and _aware(op.deadline) > moment:
            if progress.done != op.sites_done:
                moved.append({"op_id": op.id, "n": progress.done})
            continue
        succeeded = OpState.COMPLETED if op.state == OpState.PROCESSING else OpState.ROLLED_BACK
        state = OpState.FAILED_TEMP if progress.failed or progress.pending else succeeded
        error = progress.error(op.deadline) if state is OpState.FAILED_TEMP else None
        outcomes[op.id] = Ending(
            op.id, op.ns_instance_id, op.operation, state.value, error, progress.done,
            op.targets, op.outcome,
        )  # fmt: skip
    if moved:
        table = site_channel.table_of(NsLcmOpOccRow)
        session.execute(
            update(table).where(table.c.id == bindparam("op_id")).values(sites_done=bindparam("n")),
            moved,
        )
    finished = _finish(session, outcomes, moving, moment)
    session.flush()
    session.expire_all()
    return finished


@dataclass(frozen=True)
class Ending:
    """How an operation ends, with what telling the NS instance and subscribers needs (the
    tracker reads plain columns, not whole operation rows)."""

    id: str
    ns_instance_id: str
    operation: str
    state: str
    error: dict[str, Any] | None
    done: int
    targets: dict[str, int]
    outcome: dict[str, Any] | None


def _finish(
    session: Session,
    outcomes: dict[str, Ending],
    moving: tuple[str, ...],
    moment: datetime,
) -> list[str]:
    """Ends the operations of `outcomes` that are still moving (those another replica has not
    ended first), with their results, and tells the NS instances and subscribers."""
    t = NsLcmOpOccRow
    won: list[str] = []
    ids = list(outcomes)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        won.extend(
            session.scalars(
                update(t)
                .where(t.id.in_(chunk), t.state.in_(moving))
                .values(state_entered_time=moment)
                .returning(t.id),
                execution_options={"synchronize_session": False},
            ).all()
        )
    if not won:
        return []
    ended = [outcomes[op_id] for op_id in won]
    table = site_channel.table_of(NsLcmOpOccRow)
    session.execute(
        update(table)
        .where(table.c.id == bindparam("op_id"))
        .values(state=bindparam("to"), sites_done=bindparam("n"), error=bindparam("why")),
        [{"op_id": e.id, "to": e.state, "n": e.done, "why": e.error} for e in ended],
    )
    instances = _instances(session, [e.ns_instance_id for e in ended])
    for ending in ended:
        state = OpState(ending.state)
        if state is not OpState.FAILED_TEMP:
            _completed(session, ending, state)
        ns = instances.get(ending.ns_instance_id)
        if ns is not None:
            _announce(session, ns, ending, "RESULT")
    return won


@dataclass(frozen=True)
class Progress:
    done: int
    failed: dict[str, str]
    pending: list[str]

    @property
    def total(self) -> int:
        return self.done + len(self.failed) + len(self.pending)

    def error(self, deadline: datetime) -> dict[str, Any]:
        if self.failed:
            failures = sorted(self.failed.items())[:10]
            detail = f"{len(self.failed)} of {self.total} sites failed to apply the change: "
            detail += "; ".join(f"site {site}: {why}" for site, why in failures)
        else:
            detail = (
                f"timed out: {len(self.pending)} of {self.total} sites did not report the "
                f"change applied before {_aware(deadline).isoformat()} (first: "
                + ", ".join(self.pending[:10])
                + ")"
            )
        return {"status": 500, "title": "the operation did not complete", "detail": detail}


def _instances(session: Session, ns_ids: Sequence[str]) -> dict[str, NsInstanceRow]:
    """The NS instances, read in a few queries (they stay in the session's identity map)."""
    found: dict[str, NsInstanceRow] = {}
    unique = list(dict.fromkeys(ns_ids))
    for start in range(0, len(unique), 500):
        query = select(NsInstanceRow).where(NsInstanceRow.id.in_(unique[start : start + 500]))
        found.update((row.id, row) for row in session.scalars(query))
    return found


@dataclass(frozen=True)
class SiteProgress:
    """What a site's last status says, as far as operations care: the revision it applied,
    and its report when it is degraded (the only case that can fail an operation)."""

    applied_revision: int
    degraded: dict[str, Any] | None


def _statuses(session: Session, site_ids: Sequence[str]) -> dict[str, SiteProgress]:
    """The sites' progress, read as plain columns (the report body only of degraded sites)."""
    found: dict[str, SiteProgress] = {}
    unique = list(dict.fromkeys(site_ids))
    s = SiteStatusRow
    degraded: list[str] = []
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        for site_id, applied, state in session.execute(
            select(s.site_id, s.applied_revision, s.state).where(s.site_id.in_(chunk))
        ):
            found[site_id] = SiteProgress(applied, None)
            if state == "degraded":
                degraded.append(site_id)
    for start in range(0, len(degraded), 500):
        chunk = degraded[start : start + 500]
        for site_id, body in session.execute(select(s.site_id, s.body).where(s.site_id.in_(chunk))):
            if isinstance(body, dict):
                found[site_id] = SiteProgress(found[site_id].applied_revision, body)
    return found


def _progress(session: Session, op: NsLcmOpOccRow) -> Progress:
    return _progress_of(op.ns_instance_id, op.targets, _statuses(session, list(op.targets)))


def _progress_of(
    ns_id: str, targets: dict[str, int], statuses: dict[str, SiteProgress]
) -> Progress:
    done = 0
    failed: dict[str, str] = {}
    pending: list[str] = []
    for site_id, revision in targets.items():
        status = statuses.get(site_id)
        why = _failure(status.degraded, ns_id, revision) if status is not None else None
        if why is not None:
            failed[site_id] = why
        elif status is not None and status.applied_revision >= revision:
            done += 1
        else:
            pending.append(site_id)
    return Progress(done, failed, pending)


def _failure(body: dict[str, Any] | None, service_id: str, revision: int) -> str | None:
    """Why the site failed this revision, if its last (degraded) status says so."""
    if body is None:
        return None
    reported = body.get("revision")
    if not isinstance(reported, int) or reported < revision:
        return None
    for service in body.get("services") or []:
        if (
            isinstance(service, dict)
            and service.get("id") == service_id
            and service.get("state") == "failed"
        ):
            return str(body.get("error") or "the service failed")
    return None


def _identity(ns: NsInstanceRow) -> dict[str, Any]:
    return {"nsInstanceId": ns.id, "_links": {"nsInstance": _href_ns(ns.id)}}


def _href_ns(ns_id: str) -> dict[str, str]:
    return {"href": f"/nslcm/v1/ns_instances/{ns_id}"}


class OpFacts(Protocol):
    """What announcing and completing an operation read of it: a row, or an `Ending`."""

    @property
    def id(self) -> str: ...
    @property
    def ns_instance_id(self) -> str: ...
    @property
    def operation(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def error(self) -> dict[str, Any] | None: ...
    @property
    def targets(self) -> dict[str, Any]: ...
    @property
    def outcome(self) -> dict[str, Any] | None: ...


def _announce(session: Session, ns: NsInstanceRow, op: OpFacts, status: str) -> None:
    """The operation occurrence notification: START when it begins, RESULT when it ends."""
    body: dict[str, Any] = {
        "nsInstanceId": ns.id,
        "nsLcmOpOccId": op.id,
        "operation": op.operation,
        "notificationStatus": status,
        "operationState": op.state,
        "isAutomaticInvocation": False,
        "_links": {
            "nsInstance": _href_ns(ns.id),
            "nsLcmOpOcc": {"href": f"/nslcm/v1/ns_lcm_op_occs/{op.id}"},
        },
    }
    if op.error is not None:
        body["error"] = op.error
    notifications.emit(
        session,
        ns,
        notifications.OPERATION_OCCURRENCE,
        body,
        operation=op.operation,
        state=op.state,
    )


def _completed(session: Session, op: OpFacts, state: OpState) -> None:
    ns = session.get(NsInstanceRow, op.ns_instance_id)
    if ns is None:
        return
    if state is OpState.ROLLED_BACK:
        new_nsd = (op.outcome or {}).get("nsdInfoId")
        if new_nsd is not None:  # the version the update was moving to, if nothing else uses it
            _release(session, new_nsd)
        if op.operation == OpType.INSTANTIATE:
            ns.site_ids = []
            ns.flavour_id = None
        elif op.operation in (OpType.UPDATE, OpType.SCALE):
            ns.site_ids = _sites_running(session, ns, op)
        return
    if op.operation in (OpType.UPDATE, OpType.SCALE):
        ns.site_ids = _sites_running(session, ns, op)
    outcome = op.outcome or {}
    if "scaleStatus" in outcome:
        ns.scale_status = outcome["scaleStatus"]
    if "nsdInfoId" in outcome:
        _associate(session, ns, outcome["nsdInfoId"], outcome["nsdId"])
    if op.operation == OpType.INSTANTIATE:
        ns.state = NsState.INSTANTIATED.value
    elif op.operation == OpType.TERMINATE:
        ns.state = NsState.NOT_INSTANTIATED.value
        ns.site_ids = []
        ns.flavour_id = None
        ns.scale_status = {}


def _sites_running(session: Session, ns: NsInstanceRow, op: OpFacts) -> list[str]:
    """The sites whose desired state holds the NS, among those it ran on and those touched."""
    candidates = list(dict.fromkeys([*ns.site_ids, *op.targets]))
    documents = site_channel.get_documents(session, candidates)
    return [s for s in candidates if _entry(documents[s].document, ns.id) is not None]


def _start(
    session: Session,
    row: NsInstanceRow,
    operation: OpType,
    *,
    params: dict[str, Any],
    targets: dict[str, int],
    previous: dict[str, Any],
    timeout: timedelta,
) -> NsLcmOpOccRow:
    now = utcnow()
    op = NsLcmOpOccRow(
        id=new_id(),
        ns_instance_id=row.id,
        tenant_id=row.tenant_id,
        operation=operation.value,
        state=OpState.PROCESSING.value,
        start_time=now,
        state_entered_time=now,
        deadline=now + timeout,
        operation_params=params,
        targets=targets,
        previous=previous,
        sites_done=0,
    )
    session.add(op)
    _announce(session, row, op, "START")
    return op


def _for_operation(
    session: Session, principal: Principal, ns_id: str, state: NsState, action: str
) -> NsInstanceRow:
    row = get_instance(session, principal, ns_id)
    ensure_writable(principal, row, what="NS instance")
    busy = _unfinished(session, ns_id)
    if busy is not None:
        raise Conflict(
            f"NS instance {ns_id} has operation {busy.id} ({busy.operation}) {busy.state}; "
            f"it must finish, be retried, rolled back or failed before another can start"
        )
    if row.state != state:
        raise Conflict(f"NS instance {ns_id} is {row.state}; it can {action} only when {state}")
    return row


def _unfinished(session: Session, ns_id: str) -> NsLcmOpOccRow | None:
    return session.scalars(
        select(NsLcmOpOccRow).where(
            NsLcmOpOccRow.ns_instance_id == ns_id,
            NsLcmOpOccRow.state.in_([s.value for s in UNFINISHED]),
        )
    ).first()


def plan_placement(
    session: Session, principal: Principal, ns_id: str, ask: placement.Request
) -> placement.Placement:
    """Where the NS would go and why every other site would not (a dry run: nothing changes)."""
    row = get_instance(session, principal, ns_id)
    return _plan(session, principal, row, _nsd_of(session, row), ask)


def _plan(
    session: Session,
    principal: Principal,
    ns: NsInstanceRow,
    nsd: Nsd,
    ask: placement.Request,
) -> placement.Placement:
    request = replace(ask, slots=max(1, len(nsd.vnf_profiles)), tenant_id=ns.tenant_id)
    named = ask.sites if ask.explicit else None
    return placement.place(request, candidates(session, principal, ns.id, named))


def _place(
    session: Session,
    principal: Principal,
    ns: NsInstanceRow,
    nsd: Nsd,
    ask: placement.Request,
    *,
    where: str | None = None,
) -> list[SiteRow]:
    if not ask.explicit and ask == placement.Request(slots=ask.slots):
        raise Invalid(
            "no placement given",
            [
                InputProblem(
                    "additionalParamsForNs",
                    "name the sites (sites: [ids or names]) or give criteria (placement: {...})",
                )
            ],
        )
    plan = _plan(session, principal, ns, nsd, ask)
    refusal = plan.refusal(replace(ask, slots=max(1, len(nsd.vnf_profiles))))
    if refusal:
        at = (where or "additionalParamsForNs") + (".sites" if ask.explicit else ".placement")
        raise Invalid("the NS cannot be placed", [InputProblem(at, line) for line in refusal])
    chosen = [c.id for c in plan.chosen]
    rows = {r.id: r for r in session.scalars(select(SiteRow).where(SiteRow.id.in_(chosen)))}
    return [rows[site_id] for site_id in chosen]


def candidates(
    session: Session,
    principal: Principal,
    ns_id: str | Collection[str],
    named: Sequence[str] | None = None,
) -> list[placement.Candidate]:
    """Every site the caller sees (only those `named`, by id or name, when given), with the
    VNF slots its desired state already uses (the services of `ns_id`, one NS instance or
    several, do not count: they are what is being placed)."""
    own = {ns_id} if isinstance(ns_id, str) else set(ns_id)
    query = select(SiteRow, DesiredStateRow.document).outerjoin(
        DesiredStateRow, DesiredStateRow.site_id == SiteRow.id
    )
    if named is not None:
        query = query.where(or_(SiteRow.id.in_(named), SiteRow.name.in_(named)))
    candidates = []
    for site, document in session.execute(query.where(visible(principal, SiteRow))):
        services = (document or {}).get("services", [])
        used = sum(len(s.get("vnfs", [])) for s in services if s.get("id") not in own)
        candidates.append(
            placement.Candidate(
                site.id,
                site.name,
                site.tenant_id,
                SiteKind(site.kind),
                MappingProxyType(dict(site.labels)),
                site.compute_nodes * site.slots_per_node,
                used,
            )
        )
    return candidates


def _rewrite(
    session: Session, ns_id: str, services: dict[str, dict[str, Any] | None]
) -> tuple[dict[str, int], dict[str, Any]]:
    """Writes each site's next revision with its `services` entry in place of the NS's (None:
    without it), in bulk; returns the new revisions and the entries the sites had before."""
    return _rewrite_each(session, {site: (ns_id, entry) for site, entry in services.items()})


def _rewrite_each(
    session: Session, changes: dict[str, tuple[str, dict[str, Any] | None]]
) -> tuple[dict[str, int], dict[str, Any]]:
    """`_rewrite` with a different NS at each site: {site: (ns id, its entry or None)}."""
    current = site_channel.get_documents(session, list(changes))
    documents: dict[str, dict[str, Any]] = {}
    previous: dict[str, Any] = {}
    for site_id, (ns_id, service) in changes.items():
        document = current[site_id].document
        entries = document.get("services", [])
        previous[site_id] = next((e for e in entries if e.get("id") == ns_id), None)
        kept = [e for e in entries if e.get("id") != ns_id]
        documents[site_id] = document | {"services": kept + ([service] if service else [])}
    return site_channel.write_documents(session, current, documents), previous


def instantiate_each(
    session: Session,
    nsd_row: CatalogItemRow,
    sites: Sequence[SiteRow],
    *,
    name: str,
    tenant_id: str | None,
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> dict[str, tuple[str, str]]:
    """A new NS instance of the NSD on each site, instantiated at once (a rollout's wave): one
    bulk write of the sites' documents; returns {site: (NS instance id, operation id)}."""
    nsd = load_nsd(nsd_row)
    try:
        template = service_from_nsd(
            nsd, service_id=UNASSIGNED, name=name, tenant=UNASSIGNED
        ).to_document()
    except NotDeployable as exc:
        raise Invalid(
            f"NSD {nsd_row.descriptor_id} cannot run on a site",
            [InputProblem("nsdId", problem) for problem in exc.problems],
        ) from exc
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
    revisions, _ = _rewrite_each(
        session,
        {
            site.id: (ns.id, template | {"id": ns.id, "name": ns.name, "tenant": site.tenant_id})
            for site in sites
            for ns in (instances[site.id],)
        },
    )
    started: dict[str, tuple[str, str]] = {}
    for site_id, ns in instances.items():
        notifications.emit(session, ns, notifications.IDENTIFIER_CREATION, _identity(ns))
        op = _start(
            session, ns, OpType.INSTANTIATE, params={"nsFlavourId": nsd.flavour_id},
            targets={site_id: revisions[site_id]}, previous={site_id: None}, timeout=timeout,
        )  # fmt: skip
        started[site_id] = (ns.id, op.id)
    return started


def versions_on(
    session: Session, nsd_row: CatalogItemRow, tenant_id: str | None, site_ids: Collection[str]
) -> dict[str, NsInstanceRow]:
    """Per site of `site_ids`, the tenant's INSTANTIATED NS instance of a version of the NSD
    (its invariant id) that runs on that site alone: what a rollout of the NSD upgrades."""
    invariant = load_nsd(nsd_row).invariant_id
    versions = [
        row.id
        for row in session.scalars(
            select(CatalogItemRow).where(
                CatalogItemRow.kind == CatalogKind.NSD.value,
                CatalogItemRow.onboarding_state == "ONBOARDED",
                or_(CatalogItemRow.tenant_id.is_(None), CatalogItemRow.tenant_id == tenant_id),
            )
        )
        if row.content is not None and load_nsd(row).invariant_id == invariant
    ]
    wanted = set(site_ids)
    found: dict[str, NsInstanceRow] = {}
    owner = (
        NsInstanceRow.tenant_id.is_(None)
        if tenant_id is None
        else NsInstanceRow.tenant_id == tenant_id
    )
    for ns in session.scalars(
        select(NsInstanceRow)
        .where(
            NsInstanceRow.nsd_info_id.in_(versions),
            NsInstanceRow.state == NsState.INSTANTIATED.value,
            owner,
        )
        .order_by(NsInstanceRow.id)
    ):
        sites = list(ns.site_ids)
        if len(sites) == 1 and sites[0] in wanted:
            found.setdefault(sites[0], ns)
    return found


def upgrade_each(
    session: Session,
    nsd_row: CatalogItemRow,
    instances: Sequence[NsInstanceRow],
    *,
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> dict[str, tuple[str, str]]:
    """Each NS instance (one site each) moved to the NSD version `nsd_row` at once (a rollout's
    wave): one bulk write; returns {site: (NS instance id, operation id)}. Instances with an
    operation in progress are left out."""
    busy = set(
        session.scalars(
            select(NsLcmOpOccRow.ns_instance_id).where(
                NsLcmOpOccRow.ns_instance_id.in_([ns.id for ns in instances]),
                NsLcmOpOccRow.state.in_([s.value for s in UNFINISHED]),
            )
        )
    )
    free = [ns for ns in instances if ns.id not in busy]
    nsd = load_nsd(nsd_row)
    current = site_channel.get_documents(session, [ns.site_ids[0] for ns in free])
    changes: dict[str, tuple[str, dict[str, Any] | None]] = {}
    for ns in free:
        site_id = ns.site_ids[0]
        entry = _entry(current[site_id].document, ns.id) or {}
        changes[site_id] = (ns.id, _service(nsd, ns) | {"tenant": entry.get("tenant")})
    revisions, previous = _rewrite_each(session, changes)
    nsd_row.usage_state = "IN_USE"
    params = {
        "updateType": "ASSOC_NEW_NSD_VERSION",
        "assocNewNsdVersionData": {"newNsdId": nsd_row.descriptor_id},
    }
    started: dict[str, tuple[str, str]] = {}
    for ns in free:
        site_id = ns.site_ids[0]
        op = _start(
            session, ns, OpType.UPDATE, params=params, targets={site_id: revisions[site_id]},
            previous={site_id: previous[site_id]}, timeout=timeout,
        )  # fmt: skip
        op.outcome = {"nsdInfoId": nsd_row.id, "nsdId": nsd_row.descriptor_id}
        started[site_id] = (ns.id, op.id)
    return started


def load_nsd(row: CatalogItemRow) -> Nsd:
    """The NSD's model; onboarded content never changes, so it is parsed once per process."""
    assert row.content is not None
    key = (row.id, row.checksum or "")
    nsd = _PARSED.get(key)
    if nsd is None:
        content = row.content
        result = load_bytes(content, "package.zip" if content[:2] == b"PK" else "nsd.yaml")
        if not isinstance(result.descriptor, Nsd):
            raise Conflict(f"NSD {row.id} no longer loads: {result.problems[:1]}")
        nsd = _PARSED[key] = result.descriptor
        while len(_PARSED) > PARSED_KEPT:
            _PARSED.pop(next(iter(_PARSED)))
    return nsd


PARSED_KEPT = 256
_PARSED: dict[tuple[str, str], Nsd] = {}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
