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

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, select, update
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
from edgewise.central.services.errors import Conflict, InputProblem, Invalid
from edgewise.central.store.tables import (
    CatalogItemRow,
    DesiredStateRow,
    NsInstanceRow,
    NsLcmOpOccRow,
    SiteRow,
    SiteStatusRow,
    utcnow,
)
from edgewise.model import placement
from edgewise.model.nsdservice import NotDeployable, service_from_nsd
from edgewise.model.sites import SiteKind
from edgewise.tosca import load_bytes
from edgewise.tosca.model import Nsd

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
    notifications.emit(session, row, notifications.IDENTIFIER_DELETION, _identity(row))
    session.delete(row)
    session.flush()
    others = session.scalar(
        select(func.count())
        .select_from(NsInstanceRow)
        .where(NsInstanceRow.nsd_info_id == nsd_info_id)
    )
    nsd = session.get(CatalogItemRow, nsd_info_id)
    if nsd is not None and not others:
        nsd.usage_state = "NOT_IN_USE"


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
    nsd_row = session.get(CatalogItemRow, row.nsd_info_id)
    assert nsd_row is not None  # the foreign key keeps it
    nsd = _load_nsd(nsd_row)
    if flavour_id != nsd.flavour_id:
        why = "missing" if flavour_id is None else f"{flavour_id!r} is not a flavour of the NSD"
        raise Invalid(
            "the NS deployment flavour is not valid",
            [InputProblem("nsFlavourId", f"{why}; the NSD has {nsd.flavour_id!r}")],
        )
    sites = _place(session, principal, row, nsd, placement)
    targets: dict[str, int] = {}
    for site in sites:
        try:
            service = service_from_nsd(
                nsd, service_id=row.id, name=row.name, tenant=site.tenant_id
            ).to_document()
        except NotDeployable as exc:
            raise Invalid(
                f"NSD {row.nsd_id} cannot run on a site",
                [InputProblem("nsdId", problem) for problem in exc.problems],
            ) from exc
        targets[site.id] = _with_service(session, site.id, row.id, service)
    row.flavour_id = flavour_id
    row.site_ids = [site.id for site in sites]
    return _start(session, row, OpType.INSTANTIATE, params=params, targets=targets, timeout=timeout)


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
    targets = {
        site_id: _with_service(session, site_id, row.id, None)
        for site_id in row.site_ids
        if session.get(SiteRow, site_id) is not None
    }
    return _start(session, row, OpType.TERMINATE, params=params, targets=targets, timeout=timeout)


def get_operation(session: Session, principal: Principal, op_id: str) -> NsLcmOpOccRow:
    return get_visible(session, NsLcmOpOccRow, op_id, principal, what="NS LCM operation occurrence")


def list_operations(session: Session, principal: Principal) -> Sequence[NsLcmOpOccRow]:
    """Every operation occurrence the caller sees, by id (filtered and paged by the API)."""
    query = select(NsLcmOpOccRow).where(visible(principal, NsLcmOpOccRow))
    return session.scalars(query.order_by(NsLcmOpOccRow.id)).all()


def advance(session: Session, now: datetime | None = None, *, limit: int = 200) -> list[str]:
    """Moves PROCESSING occurrences on from the sites' reports; returns the ids it finished.

    Safe to run on every replica at once: each finish is a conditional UPDATE that only one
    replica's transaction can win.
    """
    moment = now or utcnow()
    finished: list[str] = []
    operations = session.scalars(
        select(NsLcmOpOccRow).where(NsLcmOpOccRow.state == OpState.PROCESSING.value).limit(limit)
    ).all()
    for op in operations:
        progress = _progress(session, op)
        if progress.pending and _aware(op.deadline) > moment:
            if progress.done != op.sites_done:
                op.sites_done = progress.done
            continue
        state = OpState.FAILED_TEMP if progress.failed or progress.pending else OpState.COMPLETED
        won = session.execute(  # type: ignore[attr-defined]
            update(NsLcmOpOccRow)
            .where(NsLcmOpOccRow.id == op.id, NsLcmOpOccRow.state == OpState.PROCESSING.value)
            .values(
                state=state.value,
                state_entered_time=moment,
                sites_done=progress.done,
                error=progress.error(op) if state is OpState.FAILED_TEMP else None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if won and state is OpState.COMPLETED:
            _completed(session, op)
        if won:
            finished.append(op.id)
            ns = session.get(NsInstanceRow, op.ns_instance_id)
            if ns is not None:
                session.refresh(op)
                _announce(session, ns, op, "RESULT")
    session.flush()
    session.expire_all()
    return finished


@dataclass(frozen=True)
class Progress:
    done: int
    failed: dict[str, str]
    pending: list[str]

    def error(self, op: NsLcmOpOccRow) -> dict[str, Any]:
        if self.failed:
            failures = sorted(self.failed.items())[:10]
            detail = f"{len(self.failed)} of {len(op.targets)} sites failed to apply the change: "
            detail += "; ".join(f"site {site}: {why}" for site, why in failures)
        else:
            detail = (
                f"timed out: {len(self.pending)} of {len(op.targets)} sites did not report the "
                f"change applied before {_aware(op.deadline).isoformat()} (first: "
                + ", ".join(self.pending[:10])
                + ")"
            )
        return {"status": 500, "title": "the operation did not complete", "detail": detail}


def _progress(session: Session, op: NsLcmOpOccRow) -> Progress:
    statuses = {
        row.site_id: row
        for row in session.scalars(
            select(SiteStatusRow).where(SiteStatusRow.site_id.in_(list(op.targets)))
        )
    }
    done = 0
    failed: dict[str, str] = {}
    pending: list[str] = []
    for site_id, revision in op.targets.items():
        status = statuses.get(site_id)
        why = _failure(status, op.ns_instance_id, revision)
        if why is not None:
            failed[site_id] = why
        elif status is not None and status.applied_revision >= revision:
            done += 1
        else:
            pending.append(site_id)
    return Progress(done, failed, pending)


def _failure(status: SiteStatusRow | None, service_id: str, revision: int) -> str | None:
    """Why the site failed this revision, if its last status says so."""
    if status is None or not isinstance(status.body, dict):
        return None
    body = status.body
    reported = body.get("revision")
    if not isinstance(reported, int) or reported < revision or status.state != "degraded":
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


def _announce(session: Session, ns: NsInstanceRow, op: NsLcmOpOccRow, status: str) -> None:
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


def _completed(session: Session, op: NsLcmOpOccRow) -> None:
    ns = session.get(NsInstanceRow, op.ns_instance_id)
    if ns is None:
        return
    if op.operation == OpType.INSTANTIATE:
        ns.state = NsState.INSTANTIATED.value
    elif op.operation == OpType.TERMINATE:
        ns.state = NsState.NOT_INSTANTIATED.value
        ns.site_ids = []
        ns.flavour_id = None


def _start(
    session: Session,
    row: NsInstanceRow,
    operation: OpType,
    *,
    params: dict[str, Any],
    targets: dict[str, int],
    timeout: timedelta,
) -> NsLcmOpOccRow:
    now = utcnow()
    op = NsLcmOpOccRow(
        ns_instance_id=row.id,
        tenant_id=row.tenant_id,
        operation=operation.value,
        state=OpState.PROCESSING.value,
        start_time=now,
        state_entered_time=now,
        deadline=now + timeout,
        operation_params=params,
        targets=targets,
        sites_done=0,
    )
    session.add(op)
    session.flush()
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
    nsd_row = session.get(CatalogItemRow, row.nsd_info_id)
    assert nsd_row is not None  # the foreign key keeps it
    return _plan(session, principal, row, _load_nsd(nsd_row), ask)


def _plan(
    session: Session,
    principal: Principal,
    ns: NsInstanceRow,
    nsd: Nsd,
    ask: placement.Request,
) -> placement.Placement:
    request = replace(ask, slots=max(1, len(nsd.vnf_profiles)), tenant_id=ns.tenant_id)
    return placement.place(request, _candidates(session, principal, ns.id))


def _place(
    session: Session,
    principal: Principal,
    ns: NsInstanceRow,
    nsd: Nsd,
    ask: placement.Request,
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
        where = "additionalParamsForNs." + ("sites" if ask.explicit else "placement")
        raise Invalid("the NS cannot be placed", [InputProblem(where, line) for line in refusal])
    chosen = [c.id for c in plan.chosen]
    rows = {r.id: r for r in session.scalars(select(SiteRow).where(SiteRow.id.in_(chosen)))}
    return [rows[site_id] for site_id in chosen]


def _candidates(session: Session, principal: Principal, ns_id: str) -> list[placement.Candidate]:
    """Every site the caller sees, with the VNF slots its desired state already uses (the
    NS's own service, when it is there, does not count)."""
    query = select(SiteRow, DesiredStateRow.document).outerjoin(
        DesiredStateRow, DesiredStateRow.site_id == SiteRow.id
    )
    candidates = []
    for site, document in session.execute(query.where(visible(principal, SiteRow))):
        services = (document or {}).get("services", [])
        used = sum(len(s.get("vnfs", [])) for s in services if s.get("id") != ns_id)
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


def _with_service(
    session: Session, site_id: str, service_id: str, service: dict[str, Any] | None
) -> int:
    """Writes the site's next revision with `service` in place of (or without) the NS's entry."""
    current = site_channel.get_desired(session, site_id).document
    services = [s for s in current.get("services", []) if s.get("id") != service_id]
    if service is not None:
        services.append(service)
    return site_channel.write_revision(session, site_id, current | {"services": services}).revision


def _load_nsd(row: CatalogItemRow) -> Nsd:
    assert row.content is not None
    result = load_bytes(row.content, "package.zip" if row.content[:2] == b"PK" else "nsd.yaml")
    if not isinstance(result.descriptor, Nsd):
        raise Conflict(f"NSD {row.id} no longer loads: {result.problems[:1]}")
    return result.descriptor


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
