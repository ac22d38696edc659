"""OPERATION_FAILED (for the orchestrator, in the transaction that moves an operation): raised
when an NS LCM operation ends FAILED_TEMP, kept (its details saying so) when it is given up
(FAILED); cleared when it moves again (retry, continue, rollback), when it ends COMPLETED or
ROLLED_BACK, and — for one given up — when a later operation of its NS instance completes or
the NS instance is deleted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services.alarm_terms import Kind, ManagedObject, active_key, component
from edgewise.central.services.alarms import Fault, Tally, clear_keys, clear_rows, raise_faults
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.bulk import chunks

FAILED_STATES: Final = frozenset({"FAILED_TEMP", "FAILED"})


@dataclass(frozen=True)
class OperationState:
    """An operation as it stands now: its id, NS instance (and tenant), type, state, error."""

    id: str
    ns_instance_id: str
    tenant_id: str | None
    operation: str
    state: str
    error: Mapping[str, Any] | None = None


def operation_key(op_id: str) -> str:
    return active_key(Kind.OPERATION_FAILED, component(operation=op_id))


def operations_moved(
    session: Session, operations: Sequence[OperationState], now: datetime
) -> Tally:
    """The alarms these operations' new states raise, change or clear (set-based)."""
    failed = [op for op in operations if op.state in FAILED_STATES]
    tally = raise_faults(session, [_fault(op, now) for op in failed], now)
    done = [op.id for op in operations if op.state not in FAILED_STATES]
    if done:
        tally.add(clear_keys(session, [operation_key(op_id) for op_id in done], now))
    completed = sorted({op.ns_instance_id for op in operations if op.state == "COMPLETED"})
    superseded: list[AlarmRow] = []
    for chunk in chunks(completed):
        superseded.extend(
            session.scalars(
                select(AlarmRow).where(
                    AlarmRow.kind == Kind.OPERATION_FAILED.value,
                    AlarmRow.active_key.is_not(None),
                    AlarmRow.managed_object_id.in_(chunk),
                )
            )
        )
    return tally.add(clear_rows(session, superseded, now)) if superseded else tally


def ns_instance_deleted(session: Session, ns_id: str, now: datetime) -> Tally:
    """The alarms about an NS instance end with it (its operations are deleted with it)."""
    rows = session.scalars(
        select(AlarmRow).where(
            AlarmRow.managed_object_type == ManagedObject.NS.value,
            AlarmRow.managed_object_id == ns_id,
            AlarmRow.active_key.is_not(None),
        )
    ).all()
    return clear_rows(session, rows, now) if rows else Tally()


def _fault(op: OperationState, now: datetime) -> Fault:
    error = op.error or {}
    why = str(error.get("detail") or error.get("title") or "no detail")[:500]
    given_up = " (given up: FAILED)" if op.state == "FAILED" else ""
    return Fault(
        Kind.OPERATION_FAILED,
        component(operation=op.id),
        ManagedObject.NS,
        op.ns_instance_id,
        tenant_id=op.tenant_id,
        fault_details=(f"{op.operation} {op.state}{given_up}: {why}",),
        details={"nsLcmOpOccId": op.id, "operation": op.operation, "state": op.state},
        at=now,
    )
