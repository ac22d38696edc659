"""SOL005 thresholds (`nspm/v1`): one metric of one object, SIMPLE with a hysteresis; created
after checking what they name, read, listed, deleted. The tracker evaluates them on fresh
telemetry and notifies each crossing (`services.pm_collect`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from edgewise.central.services.access import (
    Principal,
    ensure_writable,
    get_visible,
    owner_for_new,
    visible,
)
from edgewise.central.services.errors import Conflict, InputProblem, Invalid, Unprocessable
from edgewise.central.services.pm_metrics import CATALOGUE, OBJECT_TYPES, SITE, check_metric, split
from edgewise.central.services.pm_objects import missing
from edgewise.central.services.tenants import get_tenant
from edgewise.central.store.pm_tables import PmThresholdRow

MAX_THRESHOLDS_PER_OWNER: Final = 1000
SIMPLE: Final = "SIMPLE"


@dataclass(frozen=True)
class Threshold:
    id: str
    tenant_id: str | None
    object_type: str
    object_id: str
    metric: str
    value: float
    hysteresis: float

    @classmethod
    def of(cls, row: PmThresholdRow) -> Threshold:
        return cls(row.id, row.tenant_id, row.object_type, row.object_id, row.metric,
                   row.value, row.hysteresis)  # fmt: skip


@dataclass(frozen=True)
class ThresholdRequest:
    """What a CreateThresholdRequest asks for (its shape checked by the API)."""

    object_type: str
    object_id: str
    metric: str
    threshold_type: str
    value: float | None
    hysteresis: float | None
    tenant_id: str | None = None


def create(session: Session, principal: Principal, asked: ThresholdRequest) -> Threshold:
    owner = owner_for_new(principal, asked.tenant_id, shared_allowed=True)
    if owner is not None:
        get_tenant(session, principal, owner)
    value, hysteresis = _check(asked)
    unknown = missing(session, principal, owner=owner, object_type=asked.object_type,
                      ids=[asked.object_id], where="objectInstanceId")  # fmt: skip
    if unknown:
        raise Unprocessable("the threshold names an object that does not exist", unknown)
    owned = (
        PmThresholdRow.tenant_id.is_(None) if owner is None else PmThresholdRow.tenant_id == owner
    )
    count = session.scalar(select(func.count()).select_from(PmThresholdRow).where(owned)) or 0
    if count >= MAX_THRESHOLDS_PER_OWNER:
        raise Conflict(f"there are {MAX_THRESHOLDS_PER_OWNER} thresholds already, the most a "
                       "tenant may have: delete one first")  # fmt: skip
    row = PmThresholdRow(
        tenant_id=owner, object_type=asked.object_type, object_id=asked.object_id,
        metric=asked.metric, value=value, hysteresis=hysteresis,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return Threshold.of(row)


def _check(asked: ThresholdRequest) -> tuple[float, float]:
    """The threshold's value and hysteresis, or Invalid naming every problem of the request."""
    problems: list[InputProblem] = []
    if asked.object_type not in OBJECT_TYPES:
        problems.append(InputProblem("objectType", f"{asked.object_type!r} is not one of "
                                     f"{', '.join(OBJECT_TYPES)}"))  # fmt: skip
    else:
        where = "criteria.performanceMetric"
        wrong = check_metric(asked.metric, asked.object_type, where)
        if wrong is not None:
            problems.append(wrong)
        elif asked.object_type == SITE and split(asked.metric)[1] is None:
            base = CATALOGUE[split(asked.metric)[0]].name
            problems.append(InputProblem(where, f"name the link: {base}.<link>"))
    if asked.threshold_type != SIMPLE:
        problems.append(InputProblem("criteria.thresholdType", "Edgewise has SIMPLE thresholds"))
    details = "criteria.simpleThresholdDetails"
    if asked.value is None or not math.isfinite(asked.value):
        problems.append(InputProblem(f"{details}.thresholdValue", "expected a finite number"))
    if asked.hysteresis is None or not math.isfinite(asked.hysteresis) or asked.hysteresis < 0:
        problems.append(
            InputProblem(f"{details}.hysteresis", "expected a finite, non-negative number")
        )
    if problems or asked.value is None or asked.hysteresis is None:
        raise Invalid("the threshold is not valid", problems)
    return asked.value, asked.hysteresis


def get(session: Session, principal: Principal, threshold_id: str) -> PmThresholdRow:
    return get_visible(session, PmThresholdRow, threshold_id, principal, what="threshold")


def read(session: Session, principal: Principal, threshold_id: str) -> Threshold:
    return Threshold.of(get(session, principal, threshold_id))


def list_visible(session: Session, principal: Principal) -> list[Threshold]:
    query = select(PmThresholdRow).where(visible(principal, PmThresholdRow))
    return [Threshold.of(row) for row in session.scalars(query.order_by(PmThresholdRow.id))]


def delete(session: Session, principal: Principal, threshold_id: str) -> None:
    row = get(session, principal, threshold_id)
    ensure_writable(principal, row, what="threshold")
    session.delete(row)
    session.flush()
