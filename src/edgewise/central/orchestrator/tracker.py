"""The tracker: moves PROCESSING and ROLLING_BACK operations on from the sites' reports —
COMPLETED (or ROLLED_BACK) once every site applied its revision; FAILED_TEMP once the others
are done when a site reports the service failed, at once when a site is offline or never
enrolled, or when the deadline passes — and applies what a finished operation means to its
NS instance. Every replica runs it on a timer; everything lives in the store, so a central
killed in the middle of an operation picks it up where it was when it starts again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import documents, software
from edgewise.central.orchestrator.instances import associate, release, rows_by_id
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.occurrences import OpFacts, announce
from edgewise.central.orchestrator.progress import progress_of, statuses
from edgewise.central.orchestrator.states import MOVING, NsState, OpState, OpType
from edgewise.central.services.alarms_operations import OperationState, operations_moved
from edgewise.central.store.bulk import chunks, table_of
from edgewise.central.store.tables import NsInstanceRow, NsLcmOpOccRow, aware, utcnow


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
    automatic: bool


def advance(
    session: Session, nsds: NsdModels, now: datetime | None = None, *, limit: int = 20000
) -> list[str]:
    """Moves operations on from the sites' reports; returns the ids it finished.

    Reads plain columns (no ORM objects for the operations still waiting: a rollout's wave is
    thousands of them, looked at on every report), and finishes in bulk. Safe to run on every
    replica at once: a finish is a conditional UPDATE ... RETURNING that only one replica's
    transaction can win for each operation.
    """
    moment = now or utcnow()
    moving = tuple(s.value for s in MOVING)
    t = NsLcmOpOccRow
    operations = session.execute(
        select(
            t.id, t.state, t.targets, t.deadline, t.sites_done, t.ns_instance_id, t.operation,
            t.outcome, t.operation_params["isAutomaticInvocation"].as_boolean().label("automatic"),
        )
        .where(t.state.in_(moving))
        .limit(limit)
    ).all()  # fmt: skip
    known = statuses(session, [site for op in operations for site in op.targets], moment)
    outcomes: dict[str, Ending] = {}
    moved: list[dict[str, Any]] = []
    for op in operations:
        removing = op.state == OpState.ROLLING_BACK or op.operation == OpType.TERMINATE
        progress = progress_of(op.ns_instance_id, op.targets, known, removing=removing)
        if progress.pending and not progress.absent and aware(op.deadline) > moment:
            if progress.done != op.sites_done:
                moved.append({"op_id": op.id, "n": progress.done})
            continue
        succeeded = OpState.COMPLETED if op.state == OpState.PROCESSING else OpState.ROLLED_BACK
        state = OpState.FAILED_TEMP if progress.failed or progress.pending else succeeded
        error = progress.error(op.deadline) if state is OpState.FAILED_TEMP else None
        outcomes[op.id] = Ending(
            op.id, op.ns_instance_id, op.operation, state.value, error, progress.done,
            op.targets, op.outcome, op.automatic is True,
        )  # fmt: skip
    if moved:
        table = table_of(NsLcmOpOccRow)
        session.execute(
            update(table).where(table.c.id == bindparam("op_id")).values(sites_done=bindparam("n")),
            moved,
        )
    finished = _finish(session, nsds, outcomes, moving, moment)
    session.flush()
    session.expire_all()
    return finished


def _finish(
    session: Session,
    nsds: NsdModels,
    outcomes: dict[str, Ending],
    moving: tuple[str, ...],
    moment: datetime,
) -> list[str]:
    """Ends the operations of `outcomes` that are still moving (those another replica has not
    ended first), with their results, and tells the NS instances and subscribers."""
    t = NsLcmOpOccRow
    won: list[str] = []
    for chunk in chunks(list(outcomes)):
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
    table = table_of(NsLcmOpOccRow)
    session.execute(
        update(table)
        .where(table.c.id == bindparam("op_id"))
        .values(state=bindparam("to"), sites_done=bindparam("n"), error=bindparam("why")),
        [{"op_id": e.id, "to": e.state, "n": e.done, "why": e.error} for e in ended],
    )
    instances = rows_by_id(session, [e.ns_instance_id for e in ended])
    for ending in ended:
        state = OpState(ending.state)
        ns = instances.get(ending.ns_instance_id)
        if ns is None:
            continue
        if state is not OpState.FAILED_TEMP:
            completed(session, nsds, ns, ending, state)
        announce(session, ns, ending, "RESULT")
    operations_moved(session, [
        OperationState(e.id, e.ns_instance_id, ns.tenant_id if ns else None, e.operation, e.state,
                       e.error)
        for e in ended for ns in [instances.get(e.ns_instance_id)]
    ], moment)  # fmt: skip
    return won


def completed(
    session: Session, nsds: NsdModels, ns: NsInstanceRow, op: OpFacts, state: OpState
) -> None:
    """What an operation that ended COMPLETED or ROLLED_BACK makes of its NS instance."""
    packages = (op.outcome or {}).get(software.OUTCOME_KEY)
    if packages:  # VNFs added or removed (or dropped by a terminate or a new NSD version)
        software.release_unused(session, ns, packages, [*ns.site_ids, *op.targets])
    if state is OpState.ROLLED_BACK:
        new_nsd = (op.outcome or {}).get("nsdInfoId")
        if new_nsd is not None:  # the version the update was moving to, if nothing else uses it
            release(session, new_nsd)
        if op.operation == OpType.INSTANTIATE:
            ns.site_ids = []
            ns.flavour_id = None
        elif op.operation in (OpType.UPDATE, OpType.SCALE):
            ns.site_ids = documents.sites_holding(session, ns.id, [*ns.site_ids, *op.targets])
        return
    if op.operation in (OpType.UPDATE, OpType.SCALE):
        ns.site_ids = documents.sites_holding(session, ns.id, [*ns.site_ids, *op.targets])
    outcome = op.outcome or {}
    if "scaleStatus" in outcome:
        ns.scale_status = outcome["scaleStatus"]
    if "nsdInfoId" in outcome:
        associate(session, nsds, ns, outcome["nsdInfoId"], outcome["nsdId"])
    if op.operation == OpType.INSTANTIATE:
        ns.state = NsState.INSTANTIATED.value
    elif op.operation == OpType.TERMINATE:
        ns.state = NsState.NOT_INSTANTIATED.value
        ns.site_ids = []
        ns.flavour_id = None
        ns.scale_status = {}
