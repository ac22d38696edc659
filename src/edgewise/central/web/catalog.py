"""The catalog (`/ui/catalog`): VNF packages and NSDs; onboarding by drag and drop (catalog.js
creates the item and uploads the file through the real vnfpkgm/v1 and nsd/v1 APIs, and shows
every problem they answer by file, line and column); enable, disable, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from edgewise.central.api.deps import SessionDep
from edgewise.central.services import catalog
from edgewise.central.services.catalog import CatalogKind
from edgewise.central.services.errors import Conflict, NotFound
from edgewise.central.web.auth import PortalDep, WriterDep
from edgewise.central.web.templating import redirect, render

router = APIRouter(prefix="/ui", include_in_schema=False)
KINDS = {"vnfpkg": CatalogKind.VNF_PACKAGE, "nsd": CatalogKind.NSD}
STATES = ("ENABLED", "DISABLED")


@router.get("/catalog", response_class=HTMLResponse)
def catalog_page(request: Request, caller: PortalDep, session: SessionDep) -> HTMLResponse:
    return _page(request, caller, session)


def _page(
    request: Request, caller: Any, session: Any, *, error: str = "", status_code: int = 200
) -> HTMLResponse:
    return render(
        request, "catalog/index.html", caller, status_code=status_code, section="catalog",
        title="Catalog", error=error,
        packages=catalog.list_items(session, caller.principal, CatalogKind.VNF_PACKAGE),
        nsds=catalog.list_items(session, caller.principal, CatalogKind.NSD),
    )  # fmt: skip


@router.post("/catalog/{kind}/{item_id}/state", response_model=None)
def catalog_state(
    request: Request,
    *,
    kind: str,
    item_id: str,
    caller: WriterDep,
    session: SessionDep,
    state: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Enables or disables an onboarded item (its operational state)."""
    chosen = _kind(kind)
    catalog.read_item(session, caller.principal, chosen, item_id)  # another tenant's: 404 first
    if state not in STATES:
        return _page(
            request, caller, session, status_code=422,
            error=f"state: expected ENABLED or DISABLED, not {state[:20]!r}",
        )  # fmt: skip
    try:
        catalog.modify_item(
            session, caller.principal, chosen, item_id, operational_state=state,
            user_defined_data=None,
        )  # fmt: skip
    except Conflict as refused:
        session.rollback()
        return _page(request, caller, session, error=refused.detail, status_code=409)
    return redirect("/ui/catalog", notice=f"{chosen.label} {item_id} is {state}.")


@router.post("/catalog/{kind}/{item_id}/delete", response_model=None)
def catalog_delete(
    request: Request, kind: str, item_id: str, caller: WriterDep, session: SessionDep
) -> Response:
    chosen = _kind(kind)
    try:
        catalog.delete_item(session, caller.principal, chosen, item_id)
    except Conflict as refused:  # enabled, or in use: the API's 409, said on the page
        session.rollback()
        return _page(request, caller, session, error=refused.detail, status_code=409)
    return redirect("/ui/catalog", notice=f"{chosen.label} {item_id} deleted.")


def _kind(kind: str) -> CatalogKind:
    found = KINDS.get(kind)
    if found is None:
        raise NotFound(f"no catalog kind {kind[:40]!r} (vnfpkg or nsd)")
    return found
