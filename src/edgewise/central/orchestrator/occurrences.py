"""LCM operation occurrences and their state machine (SOL005 NsLcmOpOcc):

    PROCESSING --(every site applied)--> COMPLETED        (the tracker)
    PROCESSING --(a site failed, or the deadline)--> FAILED_TEMP
    FAILED_TEMP --retry--> PROCESSING     sites that had not applied it get a fresh revision
    FAILED_TEMP --continue--> PROCESSING  waits again, nothing re-issued
    FAILED_TEMP --rollback--> ROLLING_BACK --> ROLLED_BACK (or FAILED_TEMP)
    FAILED_TEMP --fail--> FAILED          given up for good
    PROCESSING | ROLLING_BACK --cancel--> FAILED_TEMP

An operation starts here (`start`) and is announced to subscribers when it starts and ends.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import documents, software
from edgewise.central.orchestrator.instances import href
from edgewise.central.orchestrator.progress import read_progress
from edgewise.central.orchestrator.states import DEFAULT_TIMEOUT, OpState, OpType
from edgewise.central.orchestrator.views import LcmOperation
from edgewise.central.services import notifications
from edgewise.central.services.access import Principal, ensure_writable, get_visible, visible
from edgewise.central.services.alarms_operations import OperationState, operations_moved
from edgewise.central.services.errors import Conflict
from edgewise.central.store.tables import NsInstanceRow, NsLcmOpOccRow, SiteRow, new_id, utcnow


class OpFacts(Protocol):
    """What announcing and completing an operation read of it: a row, or the tracker's
    plain-column `Ending`."""

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
    @property
    def automatic(self) -> bool: ...  # started by Edgewise itself (auto-scaling), not a caller


def start(
    session: Session,
    ns: NsInstanceRow,
    operation: OpType,
    *,
    params: dict[str, Any],
    targets: dict[str, int],
    previous: dict[str, Any],
    timeout: timedelta,
) -> NsLcmOpOccRow:
    """A PROCESSING occurrence that waits for `targets` {site: revision}; `previous` keeps
    what each site ran before (what a rollback gives back)."""
    now = utcnow()
    op = NsLcmOpOccRow(
        id=new_id(),
        ns_instance_id=ns.id,
        tenant_id=ns.tenant_id,
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
    announce(session, ns, op, "START")
    return op


def get_row(session: Session, principal: Principal, op_id: str) -> NsLcmOpOccRow:
    return get_visible(session, NsLcmOpOccRow, op_id, principal, what="NS LCM operation occurrence")


def read_operation(session: Session, principal: Principal, op_id: str) -> LcmOperation:
    return LcmOperation.of(get_row(session, principal, op_id))


def list_operations(session: Session, principal: Principal) -> list[LcmOperation]:
    """Every operation occurrence the caller sees, by id (filtered and paged by the API)."""
    query = select(NsLcmOpOccRow).where(visible(principal, NsLcmOpOccRow))
    return [LcmOperation.of(row) for row in session.scalars(query.order_by(NsLcmOpOccRow.id))]


# The states each SOL005 action on an occurrence starts from: the one rule, which the portals
# read too (to offer only what the state allows).
ALLOWED_FROM: dict[str, tuple[OpState, ...]] = {
    "retry": (OpState.FAILED_TEMP,),
    "continue": (OpState.FAILED_TEMP,),
    "rollback": (OpState.FAILED_TEMP,),
    "fail": (OpState.FAILED_TEMP,),
    "cancel": (OpState.PROCESSING, OpState.ROLLING_BACK),
}


def retry(
    session: Session, principal: Principal, op_id: str, *, timeout: timedelta = DEFAULT_TIMEOUT
) -> LcmOperation:
    """FAILED_TEMP -> PROCESSING: the sites that had not applied it get a fresh revision of
    the same desired state, and a new deadline."""
    op, ns = _op_in(session, principal, op_id, ALLOWED_FROM["retry"], "retried")
    progress = read_progress(session, op.ns_instance_id, op.targets)
    revisions, _ = documents.reissue(session, [*progress.failed, *progress.pending])
    op.targets = dict(op.targets) | revisions
    return _restart(session, ns, op, OpState.PROCESSING, timeout)


def continue_(session: Session, principal: Principal, op_id: str) -> LcmOperation:
    """FAILED_TEMP -> PROCESSING: waits again (a new deadline) without re-issuing anything —
    for sites that were only slow or cut off."""
    op, ns = _op_in(session, principal, op_id, ALLOWED_FROM["continue"], "continued")
    return _restart(session, ns, op, OpState.PROCESSING, DEFAULT_TIMEOUT)


def rollback(
    session: Session, principal: Principal, op_id: str, *, timeout: timedelta = DEFAULT_TIMEOUT
) -> LcmOperation:
    """FAILED_TEMP -> ROLLING_BACK: every site involved gets back what it ran before the
    operation; ROLLED_BACK once they all report it applied."""
    op, ns = _op_in(session, principal, op_id, ALLOWED_FROM["rollback"], "rolled back")
    before = {site_id: op.previous.get(site_id) for site_id in op.targets}
    live = set(session.scalars(select(SiteRow.id).where(SiteRow.id.in_(list(before)))).all())
    targets, _ = documents.rewrite(session, ns.id, {s: v for s, v in before.items() if s in live})
    op.targets = targets
    return _restart(session, ns, op, OpState.ROLLING_BACK, timeout)


def fail(session: Session, principal: Principal, op_id: str) -> LcmOperation:
    """FAILED_TEMP -> FAILED: given up for good; the sites keep what they run, and the NS
    instance's sites become those whose desired state holds it (so that a terminate or a
    delete later takes it off every one, a site a failed scale-out reached included)."""
    op, ns = _op_in(session, principal, op_id, ALLOWED_FROM["fail"], "marked as failed")
    ns.site_ids = documents.sites_holding(session, ns.id, [*ns.site_ids, *op.targets])
    packages = (op.outcome or {}).get(software.OUTCOME_KEY)
    if packages:
        software.release_unused(session, ns, packages, [*ns.site_ids, *op.targets])
    op.state = OpState.FAILED.value
    op.state_entered_time = utcnow()
    session.flush()
    moved(session, ns, op)
    announce(session, ns, op, "RESULT")
    return LcmOperation.of(op)


def cancel(session: Session, principal: Principal, op_id: str) -> LcmOperation:
    """PROCESSING or ROLLING_BACK -> FAILED_TEMP at once (the sites finish the revision they
    hold; retry, rollback or fail decide what happens next)."""
    op, ns = _op_in(session, principal, op_id, ALLOWED_FROM["cancel"], "cancelled")
    op.state = OpState.FAILED_TEMP.value
    op.state_entered_time = utcnow()
    op.error = {"status": 409, "title": "cancelled", "detail": "the operation was cancelled"}
    session.flush()
    moved(session, ns, op)
    announce(session, ns, op, "RESULT")
    return LcmOperation.of(op)


def _op_in(
    session: Session,
    principal: Principal,
    op_id: str,
    states: tuple[OpState, ...],
    action: str,
) -> tuple[NsLcmOpOccRow, NsInstanceRow]:
    op = get_row(session, principal, op_id)
    ensure_writable(principal, op, what="NS LCM operation occurrence")
    if op.state not in states:
        allowed = " or ".join(s.value for s in states)
        raise Conflict(f"operation {op_id} is {op.state}; it can be {action} only when {allowed}")
    ns = session.get(NsInstanceRow, op.ns_instance_id)
    assert ns is not None  # deleting an NS deletes its operations
    return op, ns


def _restart(
    session: Session, ns: NsInstanceRow, op: NsLcmOpOccRow, state: OpState, timeout: timedelta
) -> LcmOperation:
    now = utcnow()
    op.state = state.value
    op.state_entered_time = now
    op.deadline = now + timeout
    op.error = None
    op.sites_done = 0
    session.flush()
    moved(session, ns, op)
    announce(session, ns, op, "START")
    return LcmOperation.of(op)


def moved(session: Session, ns: NsInstanceRow, op: NsLcmOpOccRow) -> None:
    """An operator moved the operation on: its OPERATION_FAILED alarm follows."""
    state = OperationState(op.id, ns.id, ns.tenant_id, op.operation, op.state, op.error)
    operations_moved(session, [state], op.state_entered_time)


def announce(session: Session, ns: NsInstanceRow, op: OpFacts, status: str) -> None:
    """The operation occurrence notification: START when it begins, RESULT when it ends."""
    body: dict[str, Any] = {
        "nsInstanceId": ns.id,
        "nsLcmOpOccId": op.id,
        "operation": op.operation,
        "notificationStatus": status,
        "operationState": op.state,
        "isAutomaticInvocation": op.automatic,
        "_links": {
            "nsInstance": href(ns.id),
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
