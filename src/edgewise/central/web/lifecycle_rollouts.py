"""Rollouts (`/ui/rollouts`): the list, a new one from a label selector or a site group with a
dry run of its placement first (which sites, in which waves, which are skipped and why), then
its page with live progress and pause, resume, abort."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from edgewise.central.api.deps import NsdsDep, SessionDep
from edgewise.central.orchestrator import rollouts
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.services import lcm_pages
from edgewise.central.services.access import Principal
from edgewise.central.services.catalog import CatalogKind, list_items
from edgewise.central.services.errors import InputProblem, Invalid, NotFound
from edgewise.central.web.auth import PortalDep, WriterDep
from edgewise.central.web.lifecycle_forms import (
    LABELS_MAX,
    PageAskDep,
    Window,
    field_errors,
    selector_request,
)
from edgewise.central.web.templating import redirect, render, render_live
from edgewise.model import placement

router = APIRouter(include_in_schema=False)
MOVES = {"pause": rollouts.pause, "resume": rollouts.resume, "abort": rollouts.abort}


@dataclass(frozen=True)
class RolloutForm:
    name: str
    nsd: str
    labels: str
    group: str
    batch_size: int
    max_failures: int

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name, "nsd": self.nsd, "labels": self.labels, "group": self.group,
            "batch_size": self.batch_size, "max_failures": self.max_failures,
        }  # fmt: skip


def rollout_form(
    *,
    name: Annotated[str, Form(max_length=63)] = "",
    nsd: Annotated[str, Form(max_length=100)] = "",
    labels: Annotated[str, Form(max_length=LABELS_MAX)] = "",
    group: Annotated[str, Form(max_length=100)] = "",
    batch_size: Annotated[int, Form(ge=1, le=100_000)] = 10,
    max_failures: Annotated[int, Form(ge=0, le=1_000_000)] = 0,
) -> RolloutForm:
    return RolloutForm(name.strip(), nsd, labels.strip(), group.strip(), batch_size, max_failures)


RolloutFormDep = Annotated[RolloutForm, Depends(rollout_form)]


def _start(
    session: Session, principal: Principal, nsds: NsdModels, form: RolloutForm
) -> rollouts.Rollout:
    """Creates the rollout (Invalid naming the form's fields when it cannot)."""
    missing = [
        InputProblem(field, message)
        for field, message, absent in (
            ("name", "give the rollout a name", not form.name),
            ("nsd", "choose the NSD to roll out", not form.nsd),
            ("labels", "give a label selector or a site group", not form.labels and not form.group),
        )
        if absent
    ]
    if missing:
        raise Invalid("the rollout is not complete", missing)
    ask = selector_request(form.labels) if form.labels else placement.Request(slots=0)
    return rollouts.create(
        session, principal, nsds, name=form.name, nsd_info_id=form.nsd,
        target=rollouts.Target(ask, form.group or None), batch_size=form.batch_size,
        max_failures=form.max_failures,
    )  # fmt: skip


def dry_run(
    session: Session, principal: Principal, nsds: NsdModels, form: RolloutForm
) -> tuple[rollouts.Rollout, list[lcm_pages.RolloutSite]]:
    """The rollout the form would start, and its sites by wave, without starting it: the
    orchestrator's own placement runs, then the request's transaction is rolled back."""
    try:
        planned = _start(session, principal, nsds, form)
        sites = lcm_pages.rollout_sites(session, principal, planned.id)
    finally:
        session.rollback()
    return planned, sites


@router.get("/rollouts", response_class=HTMLResponse)
def rollout_list(
    request: Request, caller: PortalDep, session: SessionDep, ask: PageAskDep
) -> HTMLResponse:
    found = rollouts.list_all(session, caller.principal)[::-1]  # newest first
    return render(
        request, "lifecycle/rollout_list.html", caller, section="rollouts", title="Rollouts",
        window=Window.of(found, ask),
    )  # fmt: skip


@router.get("/rollouts/new", response_class=HTMLResponse)
def rollout_new(request: Request, caller: PortalDep, session: SessionDep) -> HTMLResponse:
    return _new(request, caller, session, rollout_form())


def _new(
    request: Request, caller: Any, session: Session, form: RolloutForm, *, status_code: int = 200,
    errors: dict[str, str] | None = None, problems: list[str] | None = None,
    preview: rollouts.Rollout | None = None, sites: list[lcm_pages.RolloutSite] | None = None,
) -> HTMLResponse:  # fmt: skip
    nsds = [i for i in list_items(session, caller.principal, CatalogKind.NSD) if i.descriptor]
    return render(
        request, "lifecycle/rollout_new.html", caller, status_code=status_code,
        section="rollouts", title="New rollout", nsds=nsds, values=form.values(),
        errors=errors or {}, problems=problems or [], preview=preview, sites=sites or [],
    )  # fmt: skip


@router.post("/rollouts/preview", response_class=HTMLResponse)
def rollout_preview(
    request: Request,
    *,
    caller: WriterDep,
    session: SessionDep,
    nsds: NsdsDep,
    form: RolloutFormDep,
) -> HTMLResponse:
    """The dry run: nothing is started; the page shows the waves and a button to start."""
    try:
        planned, sites = dry_run(session, caller.principal, nsds, form)
    except Invalid as refused:
        return _refused(request, caller, session, form, refused)
    return _new(request, caller, session, form, preview=planned, sites=sites)


@router.post("/rollouts", response_model=None)
def rollout_create(
    request: Request,
    *,
    caller: WriterDep,
    session: SessionDep,
    nsds: NsdsDep,
    form: RolloutFormDep,
) -> Response:
    try:
        started = _start(session, caller.principal, nsds, form)
    except Invalid as refused:
        session.rollback()
        return _refused(request, caller, session, form, refused)
    return redirect(f"/ui/rollouts/{started.id}", notice=f"Rollout {started.name} started.")


def _refused(
    request: Request, caller: Any, session: Session, form: RolloutForm, refused: Invalid
) -> HTMLResponse:
    errors = field_errors(refused)
    if "selector" in errors:  # the placement's answer is about the sites the selector chose
        errors["labels"] = errors.pop("selector")
    if "nsdId" in errors:
        errors["nsd"] = errors.pop("nsdId")
    return _new(
        request, caller, session, form, status_code=422, errors=errors | {"": refused.detail},
        problems=[str(p) for p in refused.problems],
    )  # fmt: skip


@router.get("/rollouts/{rollout_id}", response_class=HTMLResponse)
def rollout_show(
    request: Request, rollout_id: str, caller: PortalDep, session: SessionDep
) -> HTMLResponse:
    rollout = rollouts.get(session, caller.principal, rollout_id)
    context: dict[str, Any] = {
        "rollout": rollout,
        "sites": lcm_pages.rollout_sites(session, caller.principal, rollout_id),
        "moves": [(move, rollout.state in rollouts.MOVABLE_FROM[move]) for move in MOVES],
    }
    return render_live(
        request, "lifecycle/rollout_show.html", "lifecycle/rollout_progress.html", caller,
        section="rollouts", title=f"Rollout {rollout.name}", **context,
    )  # fmt: skip


@router.post("/rollouts/{rollout_id}/{move}")
def rollout_move(
    rollout_id: str, move: str, caller: WriterDep, session: SessionDep
) -> RedirectResponse:
    act = MOVES.get(move)
    if act is None:
        raise NotFound(f"no action {move[:40]!r} on a rollout (pause, resume, abort)")
    moved = act(session, caller.principal, rollout_id)
    return redirect(f"/ui/rollouts/{rollout_id}", notice=f"Rollout {moved.name}: {moved.state}.")
