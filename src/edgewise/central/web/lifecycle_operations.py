"""Operation occurrences (`/ui/operations`): the list by state, an occurrence's page with its
live progress (a fragment the page reloads), and only the SOL005 actions its state allows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from edgewise.central.api.deps import SessionDep
from edgewise.central.orchestrator import occurrences
from edgewise.central.orchestrator.states import OpState, OpType
from edgewise.central.orchestrator.views import LcmOperation
from edgewise.central.services.access import Principal
from edgewise.central.services.errors import NotFound
from edgewise.central.web.auth import PortalDep, WriterDep
from edgewise.central.web.lifecycle_forms import FILTER_MAX, PageAskDep, Window, choice
from edgewise.central.web.templating import redirect, render, render_live

router = APIRouter(include_in_schema=False)
Act = Callable[[Session, Principal, str], LcmOperation]


@dataclass(frozen=True)
class Action:
    """One SOL005 action on an occurrence, the states it is allowed in, and what it does."""

    name: str
    label: str
    allowed: tuple[OpState, ...]
    explains: str
    act: Act

    def refusal(self, state: str) -> str:
        """Why the action is not available in `state` ("" when it is)."""
        if state in self.allowed:
            return ""
        names = " or ".join(s.value for s in self.allowed)
        return f"only an operation in {names} can be {self.explains}; this one is {state}"


ACTIONS = (  # the states come from the orchestrator's one rule (occurrences.ALLOWED_FROM)
    Action("retry", "Retry", occurrences.ALLOWED_FROM["retry"], "retried", occurrences.retry),
    Action(
        "rollback", "Roll back", occurrences.ALLOWED_FROM["rollback"], "rolled back",
        occurrences.rollback,
    ),
    Action(
        "fail", "Mark as failed", occurrences.ALLOWED_FROM["fail"], "marked as failed",
        occurrences.fail,
    ),
    Action("cancel", "Cancel", occurrences.ALLOWED_FROM["cancel"], "cancelled", occurrences.cancel),
)  # fmt: skip
BY_NAME = {action.name: action for action in ACTIONS}


@router.get("/operations", response_class=HTMLResponse)
def operation_list(
    request: Request,
    *,
    caller: PortalDep,
    session: SessionDep,
    ask: PageAskDep,
    state: Annotated[str, Query(max_length=FILTER_MAX)] = "",
    operation: Annotated[str, Query(max_length=FILTER_MAX)] = "",
    ns: Annotated[str, Query(max_length=FILTER_MAX)] = "",
) -> HTMLResponse:
    wanted = choice(OpState, state, "state")
    kind = choice(OpType, operation, "operation")
    found = [
        op
        for op in occurrences.list_operations(session, caller.principal)[::-1]  # newest first
        if (wanted is None or op.state == wanted.value)
        and (kind is None or op.operation == kind.value)
        and (not ns or op.ns_instance_id == ns)
    ]
    return render(
        request, "lifecycle/op_list.html", caller, section="operations", title="Operations",
        window=Window.of(found, ask), state=state, operation=operation, ns=ns,
        states=[s.value for s in OpState], types=[t.value for t in OpType],
    )  # fmt: skip


@router.get("/operations/{op_id}", response_class=HTMLResponse)
def operation_show(
    request: Request, op_id: str, caller: PortalDep, session: SessionDep
) -> HTMLResponse:
    op = occurrences.read_operation(session, caller.principal, op_id)
    context: dict[str, Any] = {"op": op, "actions": [(a, a.refusal(op.state)) for a in ACTIONS]}
    return render_live(
        request, "lifecycle/op_show.html", "lifecycle/op_progress.html", caller,
        section="operations", title=f"{op.operation} {op.id}", **context,
    )  # fmt: skip


@router.post("/operations/{op_id}/{action}")
def operation_act(
    op_id: str, action: str, caller: WriterDep, session: SessionDep
) -> RedirectResponse:
    chosen = BY_NAME.get(action)
    if chosen is None:
        raise NotFound(f"no action {action[:40]!r} on an operation (retry, rollback, fail, cancel)")
    chosen.act(session, caller.principal, op_id)
    return redirect(f"/ui/operations/{op_id}", notice=f"{chosen.label}: done.")
