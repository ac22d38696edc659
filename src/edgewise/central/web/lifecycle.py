"""NS instances (`/ui/ns`): the list (filtered by state and name, paged), an instance's page (its
NSD, sites, VNFs, operations), creating one, instantiating it on the sites a label selector
matches (with a dry run of the placement first), terminating and deleting it. Operations and
rollouts are in lifecycle_operations and lifecycle_rollouts, included here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from edgewise.central.api.deps import NsdsDep, SessionDep
from edgewise.central.orchestrator import instances, lifecycle, occurrences, placing
from edgewise.central.orchestrator.states import UNFINISHED, NsState
from edgewise.central.services import lcm_pages
from edgewise.central.services.catalog import CatalogKind, list_items
from edgewise.central.services.errors import Invalid
from edgewise.central.web import lifecycle_operations, lifecycle_rollouts
from edgewise.central.web.auth import PortalDep, WriterDep
from edgewise.central.web.lifecycle_forms import (
    FILTER_MAX,
    LABELS_MAX,
    PageAskDep,
    Window,
    choice,
    field_errors,
    selector_request,
)
from edgewise.central.web.templating import redirect, render

router = APIRouter(prefix="/ui", include_in_schema=False)
NAME_MAX = 255
Labels = Annotated[str, Form(max_length=LABELS_MAX)]


@router.get("/ns", response_class=HTMLResponse)
def ns_list(
    request: Request,
    *,
    caller: PortalDep,
    session: SessionDep,
    ask: PageAskDep,
    state: Annotated[str, Query(max_length=FILTER_MAX)] = "",
    name: Annotated[str, Query(max_length=FILTER_MAX)] = "",
) -> HTMLResponse:
    wanted = choice(NsState, state, "state")
    found = [
        ns
        for ns in instances.list_instances(session, caller.principal)
        if (wanted is None or ns.state is wanted) and name.lower() in ns.name.lower()
    ]
    return render(
        request, "lifecycle/ns_list.html", caller, section="ns", title="NS instances",
        window=Window.of(found, ask), state=state, name=name,
        states=[s.value for s in NsState],
    )  # fmt: skip


@router.get("/ns/new", response_class=HTMLResponse)
def ns_new(request: Request, caller: PortalDep, session: SessionDep) -> HTMLResponse:
    return _new_form(request, caller, session, {}, {"name": "", "nsd": "", "description": ""})


def _new_form(
    request: Request, caller: Any, session: Any, errors: dict[str, str], values: dict[str, str],
    *,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    nsds = [
        item
        for item in list_items(session, caller.principal, CatalogKind.NSD)
        if item.descriptor is not None
    ]
    return render(
        request, "lifecycle/ns_new.html", caller, status_code=status_code, section="ns",
        title="New NS instance", nsds=nsds, errors=errors, values=values,
    )  # fmt: skip


@router.post("/ns", response_model=None)
def ns_create(
    request: Request,
    *,
    caller: WriterDep,
    session: SessionDep,
    nsd: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=NAME_MAX)] = "",
    description: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    values = {"name": name, "nsd": nsd, "description": description}
    errors = {}
    if not nsd:
        errors["nsd"] = "choose the NSD to instantiate"
    if not name.strip():
        errors["name"] = "give the NS instance a name"
    if errors:
        return _new_form(request, caller, session, errors, values, status_code=422)
    try:
        ns = instances.create_instance(
            session, caller.principal, nsd_info_id=nsd, name=name.strip(),
            description=description,
        )  # fmt: skip
    except Invalid as refused:
        return _new_form(request, caller, session, field_errors(refused), values, status_code=422)
    return redirect(f"/ui/ns/{ns.id}", notice=f"NS instance {ns.name} created.")


@router.get("/ns/{ns_id}", response_class=HTMLResponse)
def ns_show(
    request: Request, ns_id: str, caller: PortalDep, session: SessionDep, nsds: NsdsDep
) -> HTMLResponse:
    return _show(request, caller, session, nsds, ns_id)


def _show(
    request: Request, caller: Any, session: Any, nsds: Any, ns_id: str, *, status_code: int = 200,
    **form: Any,
) -> HTMLResponse:  # fmt: skip
    ns = instances.read_instance(session, caller.principal, ns_id, nsds)
    operations = [
        op for op in occurrences.list_operations(session, caller.principal)
        if op.ns_instance_id == ns.id
    ]  # fmt: skip
    busy = next((op for op in operations if op.state in UNFINISHED), None)
    context: dict[str, Any] = {
        "labels": "", "flavour": "default", "errors": {}, "problems": [], "preview": None,
    }  # fmt: skip
    return render(
        request, "lifecycle/ns_show.html", caller, status_code=status_code, section="ns",
        title=f"NS instance {ns.name}", ns=ns, busy=busy,
        site_names=lcm_pages.site_names(session, caller.principal, ns.sites),
        operations=operations[-20:][::-1],
        **(context | form),
    )  # fmt: skip


@router.post("/ns/{ns_id}/preview", response_class=HTMLResponse)
def ns_preview(
    request: Request,
    *,
    ns_id: str,
    caller: WriterDep,
    session: SessionDep,
    nsds: NsdsDep,
    labels: Labels = "",
    flavour: Annotated[str, Form(max_length=100)] = "default",
) -> HTMLResponse:
    """The dry run: the sites the selector matches, and why every other one is left out."""
    try:
        ask = selector_request(labels)
        plan = placing.plan_placement(session, caller.principal, nsds, ns_id, ask)
    except Invalid as refused:
        return _refused(
            request, caller, session, nsds, ns_id, refused=refused, labels=labels, flavour=flavour
        )
    preview = {
        "chosen": plan.chosen, "rejected": plan.rejected, "refusal": plan.refusal(ask),
    }  # fmt: skip
    return _show(request, caller, session, nsds, ns_id, labels=labels, flavour=flavour,
                 preview=preview)  # fmt: skip


@router.post("/ns/{ns_id}/instantiate", response_model=None)
def ns_instantiate(
    request: Request,
    *,
    ns_id: str,
    caller: WriterDep,
    session: SessionDep,
    nsds: NsdsDep,
    labels: Labels = "",
    flavour: Annotated[str, Form(max_length=100)] = "default",
) -> Response:
    params = {"nsFlavourId": flavour, "additionalParamsForNs": {"placement": {"labels": labels}}}
    try:
        op = lifecycle.instantiate(
            session, caller.principal, nsds, ns_id, flavour_id=flavour,
            placement=selector_request(labels), params=params,
        )  # fmt: skip
    except Invalid as refused:
        return _refused(
            request, caller, session, nsds, ns_id, refused=refused, labels=labels, flavour=flavour
        )
    return redirect(f"/ui/operations/{op.id}", notice="Instantiation started.")


def _refused(
    request: Request, caller: Any, session: Any, nsds: Any, ns_id: str, *, refused: Invalid,
    labels: str, flavour: str,
) -> HTMLResponse:  # fmt: skip
    return _show(
        request, caller, session, nsds, ns_id, status_code=422, labels=labels, flavour=flavour,
        errors=field_errors(refused) | {"": refused.detail},
        problems=[str(p) for p in refused.problems],
    )  # fmt: skip


@router.post("/ns/{ns_id}/terminate")
def ns_terminate(ns_id: str, caller: WriterDep, session: SessionDep) -> RedirectResponse:
    op = lifecycle.terminate(session, caller.principal, ns_id, params={})
    return redirect(f"/ui/operations/{op.id}", notice="Termination started.")


@router.post("/ns/{ns_id}/delete")
def ns_delete(ns_id: str, caller: WriterDep, session: SessionDep) -> RedirectResponse:
    instances.delete_instance(session, caller.principal, ns_id)
    return redirect("/ui/ns", notice="NS instance deleted.")


router.include_router(lifecycle_operations.router)
router.include_router(lifecycle_rollouts.router)
