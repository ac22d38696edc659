"""Native API: sites and site groups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from edgewise.central.api.deps import CallerDep, PageDep, SessionDep
from edgewise.central.api.listing import page_response
from edgewise.central.api.schemas import (
    SiteCreate,
    SiteGroupCreate,
    SiteGroupPublic,
    SiteGroupUpdate,
    SitePublic,
    SiteUpdate,
    dump,
)
from edgewise.central.services import sites
from edgewise.central.services.errors import InputProblem, Invalid
from edgewise.model.sites import LabelSelector, SiteKind

router = APIRouter(prefix="/api/v1", tags=["sites"])


def _selector(text: str | None) -> LabelSelector | None:
    if not text:
        return None
    try:
        return LabelSelector.parse(text)
    except ValueError as exc:
        raise Invalid(
            "the label selector is not valid", [InputProblem("labels", str(exc))]
        ) from exc


@router.get("/sites", operation_id="listSites", response_model=list[SitePublic])
def list_sites(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    page: PageDep,
    kind: SiteKind | None = None,
    labels: Annotated[
        str | None, Query(description="label selector: key=value[,key=value...]")
    ] = None,
    group: Annotated[str | None, Query(description="only sites of this site group")] = None,
) -> JSONResponse:
    found = sites.list_sites(
        session,
        caller,
        kind=kind,
        selector=_selector(labels),
        group_id=group,
        marker=page.marker,
        limit=page.limit,
    )
    return page_response(request, [dump(SitePublic.of(r)) for r in found.items], found.next_marker)


@router.post("/sites", status_code=201, operation_id="createSite")
def create_site(body: SiteCreate, session: SessionDep, caller: CallerDep) -> SitePublic:
    spec = sites.SiteSpec(
        name=body.name,
        kind=body.kind,
        labels=body.labels,
        compute_nodes=body.compute_nodes,
        slots_per_node=body.slots_per_node,
        description=body.description,
        tenant_id=body.tenant_id,
    )
    return SitePublic.of(sites.create_site(session, caller, spec))


@router.get("/sites/{siteId}", operation_id="readSite")
def read_site(siteId: str, session: SessionDep, caller: CallerDep) -> SitePublic:
    return SitePublic.of(sites.get_site(session, caller, siteId))


@router.patch("/sites/{siteId}", operation_id="updateSite")
def update_site(
    siteId: str,
    body: SiteUpdate,
    session: SessionDep,
    caller: CallerDep,
) -> SitePublic:
    changes = sites.SiteChanges(
        labels=body.labels,
        compute_nodes=body.compute_nodes,
        slots_per_node=body.slots_per_node,
        description=body.description,
    )
    return SitePublic.of(sites.update_site(session, caller, siteId, changes))


@router.delete("/sites/{siteId}", status_code=204, operation_id="deleteSite")
def delete_site(siteId: str, session: SessionDep, caller: CallerDep) -> Response:
    sites.delete_site(session, caller, siteId)
    return Response(status_code=204)


@router.get("/site-groups", operation_id="listSiteGroups", response_model=list[SiteGroupPublic])
def list_site_groups(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    found = sites.list_groups(session, caller, marker=page.marker, limit=page.limit)
    items = [dump(SiteGroupPublic.of(r)) for r in found.items]
    return page_response(request, items, found.next_marker)


@router.post("/site-groups", status_code=201, operation_id="createSiteGroup")
def create_site_group(
    body: SiteGroupCreate, session: SessionDep, caller: CallerDep
) -> SiteGroupPublic:
    row = sites.create_group(
        session,
        caller,
        body.name,
        body.site_ids,
        description=body.description,
        tenant_id=body.tenant_id,
    )
    return SiteGroupPublic.of(row)


@router.get("/site-groups/{groupId}", operation_id="readSiteGroup")
def read_site_group(groupId: str, session: SessionDep, caller: CallerDep) -> SiteGroupPublic:
    return SiteGroupPublic.of(sites.get_group(session, caller, groupId))


@router.patch("/site-groups/{groupId}", operation_id="updateSiteGroup")
def update_site_group(
    groupId: str,
    body: SiteGroupUpdate,
    session: SessionDep,
    caller: CallerDep,
) -> SiteGroupPublic:
    row = sites.update_group(
        session, caller, groupId, site_ids=body.site_ids, description=body.description
    )
    return SiteGroupPublic.of(row)


@router.delete("/site-groups/{groupId}", status_code=204, operation_id="deleteSiteGroup")
def delete_site_group(groupId: str, session: SessionDep, caller: CallerDep) -> Response:
    sites.delete_group(session, caller, groupId)
    return Response(status_code=204)
