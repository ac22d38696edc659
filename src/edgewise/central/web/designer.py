"""The service designer: a chain composed from native functions and onboarded VNFs, published as
an NSD. The page (`/ui/designer`, `/ui/designer/{nsdId}` for the next version of an NSD) keeps
the design in the browser; its script posts it to `check` (the catalog's loader answers) and to
`publish` (the catalog's onboarding), both JSON routes with the CSRF header."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from edgewise.central.api.deps import SessionDep, SettingsDep, TypesDep
from edgewise.central.services import designs
from edgewise.central.services.designs_nsd import Design
from edgewise.central.services.designs_palette import palette
from edgewise.central.services.designs_reading import design_of_nsd
from edgewise.central.services.views import NsdDescription
from edgewise.central.services.web_sessions import WebCaller
from edgewise.central.web.auth import PortalDep, WriterDep
from edgewise.central.web.designer_schema import DesignIn, design_json, posted_design
from edgewise.central.web.templating import render
from edgewise.tosca import TypeCache

router = APIRouter(prefix="/ui", include_in_schema=False)
PAGE_SIZE = 50
NsdId = Annotated[str, Path(min_length=1, max_length=64)]
PostedDesign = Annotated[DesignIn, Depends(posted_design)]


@dataclass(frozen=True)
class NsdListing:
    """The page of catalog NSDs a design can start from, with its filter and paging."""

    rows: list[designs.NsdVersion]
    total: int
    q: str
    page: int
    more: bool


@router.get("/designer", response_class=HTMLResponse)
def new_design(
    request: Request,
    *,
    session: SessionDep,
    caller: PortalDep,
    types: TypesDep,
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    design = Design(
        name="",
        version="1.0",
        designer=caller.principal.user_name,
        invariant_id=f"design-{uuid.uuid4().hex[:8]}",
        descriptor_id=str(uuid.uuid4()),
        functions=(),
    )
    rows, total = designs.catalog_nsds(
        session, caller.principal, text=q, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    listing = NsdListing(rows, total, q, page, page * PAGE_SIZE < total)
    return _page(request, session, caller, types, design, based_on=None, listing=listing)


@router.get("/designer/{nsd_id}", response_class=HTMLResponse)
def next_version(
    nsd_id: NsdId, request: Request, session: SessionDep, caller: PortalDep, types: TypesDep
) -> HTMLResponse:
    base = designs.read_nsd(session, caller.principal, nsd_id)
    design = design_of_nsd(session, caller.principal, nsd_id, types)
    described = base.descriptor
    assert isinstance(described, NsdDescription)
    return _page(request, session, caller, types, design, based_on=described)


def _page(
    request: Request,
    session: Session,
    caller: WebCaller,
    types: TypeCache,
    design: Design,
    *,
    based_on: NsdDescription | None,
    listing: NsdListing | None = None,
) -> HTMLResponse:
    data: dict[str, Any] = {
        "palette": palette(session, caller.principal, types).as_json(),
        "design": design_json(design),
    }
    title = f"New version of {based_on.name}" if based_on else "Service designer"
    return render(
        request, "designer/designer.html", caller, section="designer", title=title,
        data=data, based_on=based_on, design=design, listing=listing,
    )  # fmt: skip


@router.post("/designer/check")
def check_design(
    posted: PostedDesign, session: SessionDep, caller: WriterDep, types: TypesDep,
    settings: SettingsDep,
) -> JSONResponse:  # fmt: skip
    """The NSD the design makes and every problem the catalog's loader finds in it."""
    checked = designs.check(
        session, caller.principal, posted.design(), types, strict=settings.strict_descriptors
    )
    return JSONResponse(checked.as_json())


@router.post("/designer/publish")
def publish_design(
    posted: PostedDesign, session: SessionDep, caller: WriterDep, types: TypesDep,
    settings: SettingsDep,
) -> JSONResponse:  # fmt: skip
    """Onboards the design as an NSD (a new version of `basedOn` when given); the API's
    ProblemDetails when the catalog refuses it."""
    item = designs.publish(
        session, caller.principal, posted.design(), types, strict=settings.strict_descriptors
    )
    described = item.descriptor
    assert isinstance(described, NsdDescription)
    body = {
        "id": item.id,
        "nsdOnboardingState": item.onboarding_state,
        "nsdOperationalState": item.operational_state,
        **described.attributes(),
        "_links": {
            "self": {"href": f"/nsd/v1/ns_descriptors/{item.id}"},
            "nextVersion": {"href": f"/ui/designer/{item.id}"},
        },
    }
    return JSONResponse(body, status_code=201, headers={"Location": body["_links"]["self"]["href"]})
