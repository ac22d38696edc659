"""Customer self-service: ordering a service from the catalog (here), own firewall rules
(firewall_pages) and steering preferences (selfservice_steering); each page calls the services
and the orchestrator with the signed-in caller's principal, as the API does."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from edgewise.central.api.deps import NsdsDep, SessionDep
from edgewise.central.orchestrator import instances, lifecycle, software
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.services import catalog, order_forms
from edgewise.central.services.catalog import CatalogKind
from edgewise.central.services.errors import InputProblem, Invalid
from edgewise.central.services.web_sessions import WebCaller
from edgewise.central.web import firewall_pages, order_form, selfservice_steering
from edgewise.central.web.auth import PortalDep, WriterDep
from edgewise.central.web.order_form import OrderForm
from edgewise.central.web.selfservice_progress import progress_page
from edgewise.central.web.templating import redirect, render
from edgewise.model import placement

router = APIRouter(prefix="/ui", include_in_schema=False)
ItemId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
FORM_FIELDS_MAX = 200


@router.get("/order", response_class=HTMLResponse)
def order_list(request: Request, session: SessionDep, caller: PortalDep) -> HTMLResponse:
    """The enabled NSDs of the catalog the caller may use (its own and the shared ones)."""
    items = [
        item
        for item in catalog.list_items(session, caller.principal, CatalogKind.NSD)
        if item.onboarding_state == "ONBOARDED" and item.operational_state == "ENABLED"
    ]
    return render(
        request, "selfservice/order_list.html", caller, section="order", title="Order a service",
        items=items, services=order_forms.own_services(session, caller.principal),
        sites=order_forms.own_sites(session, caller.principal),
    )  # fmt: skip


@router.get("/order/operations/{op_id}", response_class=HTMLResponse)
def order_progress(
    request: Request, op_id: ItemId, session: SessionDep, caller: PortalDep
) -> HTMLResponse:
    return progress_page(request, session, caller, op_id, section="order",
                         back=("/ui/ns", "My services"))  # fmt: skip


@router.get("/order/{nsd_info_id}", response_class=HTMLResponse)
def order_page(
    request: Request, nsd_info_id: ItemId, session: SessionDep, caller: PortalDep, nsds: NsdsDep
) -> HTMLResponse:
    form = order_form.order_form(session, caller.principal, nsds, nsd_info_id)
    return _form_page(request, caller, form, {}, [])


@router.post("/order/{nsd_info_id}/check")
async def order_check(
    request: Request, nsd_info_id: ItemId, session: SessionDep, caller: WriterDep, nsds: NsdsDep
) -> JSONResponse:
    """The problems of the form as it stands (the page's script asks as the user types)."""
    posted = await _posted(request)
    return await run_in_threadpool(_check, session, caller, nsds, nsd_info_id, posted)


def _check(
    session: Session, caller: WebCaller, nsds: NsdModels, nsd_info_id: str, posted: dict[str, str]
) -> JSONResponse:
    form = order_form.order_form(session, caller.principal, nsds, nsd_info_id)
    asked = order_form.read_values(form, posted)
    problems = order_form.check(session, caller.principal, nsds, form, asked)
    return JSONResponse({"problems": [
        {"where": p.where, "message": p.message, "field": order_form.field_of(form, p.where)}
        for p in problems
    ]})  # fmt: skip


@router.post("/order/{nsd_info_id}", response_model=None)
async def order_submit(
    request: Request, nsd_info_id: ItemId, session: SessionDep, caller: WriterDep, nsds: NsdsDep
) -> Response:
    """Creates the NS instance and instantiates it on the chosen site; the operation's page."""
    posted = await _posted(request)
    return await run_in_threadpool(_submit, request, session, caller, nsds, nsd_info_id, posted)


def _submit(  # noqa: PLR0917 - what the order reads, in the route's order
    request: Request,
    session: Session,
    caller: WebCaller,
    nsds: NsdModels,
    nsd_info_id: str,
    posted: dict[str, str],
) -> Response:
    form = order_form.order_form(session, caller.principal, nsds, nsd_info_id)
    asked = order_form.read_values(form, posted)
    problems = order_form.check(session, caller.principal, nsds, form, asked)
    if not problems:
        try:
            op_id = _order(session, caller, nsds, form, asked)
        except Invalid as refused:  # what only the orchestrator knows (room on the site ...)
            session.rollback()
            problems = list(refused.problems) or [InputProblem("", refused.detail)]
        else:
            return redirect(f"/ui/order/operations/{op_id}",
                            notice=f"Ordered {asked['nsName']}: instantiating.")  # fmt: skip
    return _form_page(request, caller, form, posted, problems, status_code=422)


def _order(
    session: Session, caller: WebCaller, nsds: NsdModels, form: OrderForm, asked: dict[str, Any]
) -> str:
    made = instances.create_instance(session, caller.principal, nsd_info_id=form.nsd_info_id,
                                     name=asked["nsName"], description="")  # fmt: skip
    params = {
        entry["vnfProfileId"]: software.VnfParams(
            entry["additionalParams"], f"additionalParamsForVnf[{index}]"
        )
        for index, entry in enumerate(asked["additionalParamsForVnf"])
    }
    op = lifecycle.instantiate(
        session, caller.principal, nsds, made.id, flavour_id=asked["nsFlavourId"],
        placement=placement.Request(slots=0, sites=tuple(asked["additionalParamsForNs"]["sites"])),
        params={k: v for k, v in asked.items() if k != "nsName"}, vnf_params=params,
    )  # fmt: skip
    return op.id


def _form_page(
    request: Request,
    caller: WebCaller,
    form: OrderForm,
    posted: dict[str, str],
    problems: list[InputProblem],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    errors = {order_form.field_of(form, p.where): p for p in problems}
    general = [p for p in problems if not order_form.field_of(form, p.where)]
    return render(
        request, "selfservice/order_form.html", caller, status_code=status_code,
        section="order", title=f"Order {form.nsd.name}", form=form, posted=posted,
        errors=errors, general=general, name_field=order_form.NAME_FIELD,
        site_field=order_form.SITE_FIELD,
    )  # fmt: skip


async def _posted(request: Request) -> dict[str, str]:
    got = await request.form(max_files=0, max_fields=FORM_FIELDS_MAX)
    return {key: value for key, value in got.items() if isinstance(value, str)}


router.include_router(firewall_pages.router)
router.include_router(selfservice_steering.router)
