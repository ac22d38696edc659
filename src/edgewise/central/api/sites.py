"""Native API: sites and site groups. Routes call `services.sites` and `services.enrollment` (and
the orchestrator for desired state) and format the views they return with the Public schemas."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from edgewise.central.api.deps import CallerDep, PageDep, RuntimeDep, SessionDep
from edgewise.central.api.listing import page_response
from edgewise.central.api.schemas import (
    BulkDesiredState,
    DesiredStatePublic,
    EnrollmentTokenPublic,
    SiteBatchCreate,
    SiteCreate,
    SiteCreated,
    SiteGroupCreate,
    SiteGroupPublic,
    SiteGroupUpdate,
    SitePublic,
    SiteStatusPublic,
    SiteUpdate,
    dump,
)
from edgewise.central.orchestrator import documents, overlays
from edgewise.central.runtime import CentralRuntime
from edgewise.central.services import enrollment, site_channel, sites
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
    name: Annotated[
        str | None, Query(description="only sites of this name (one per tenant at most)")
    ] = None,
) -> JSONResponse:
    found = sites.list_sites(
        session,
        caller,
        kind=kind,
        name=name,
        selector=_selector(labels),
        group_id=group,
        marker=page.marker,
        limit=page.limit,
    )
    return page_response(request, [dump(SitePublic.of(s)) for s in found.items], found.next_marker)


@router.post("/sites", status_code=201, operation_id="createSite")
def create_site(
    body: SiteCreate, session: SessionDep, caller: CallerDep, runtime: RuntimeDep
) -> SiteCreated:
    """Creates a site and returns, once, its enrollment token."""
    return _created(enrollment.new_site(session, caller, _spec(body)), runtime)


def _created(new: enrollment.NewSite, runtime: CentralRuntime) -> SiteCreated:
    public = SitePublic.of(new.site)
    return SiteCreated(**public.model_dump(), enrollment_token=_token_public(new.token, runtime))


def _spec(body: SiteCreate) -> sites.SiteSpec:
    return sites.SiteSpec(
        name=body.name,
        kind=body.kind,
        labels=body.labels,
        compute_nodes=body.compute_nodes,
        slots_per_node=body.slots_per_node,
        description=body.description,
        tenant_id=body.tenant_id,
    )


def _token_public(
    token: enrollment.EnrollmentToken, runtime: CentralRuntime
) -> EnrollmentTokenPublic:
    return EnrollmentTokenPublic(
        site_id=token.site_id,
        token=token.secret,
        expires_at=token.expires_at,
        ca_fingerprint=runtime.authority.fingerprint,
    )


@router.post("/sites/batch", status_code=201, operation_id="createSitesBatch")
def create_sites_batch(
    body: SiteBatchCreate, session: SessionDep, caller: CallerDep, runtime: RuntimeDep
) -> list[SiteCreated]:
    """Creates many sites in one transaction (all or none), each with its enrollment token."""
    return [_created(enrollment.new_site(session, caller, _spec(s)), runtime) for s in body.sites]


@router.get("/site-status", operation_id="summarizeSiteStatus")
def summarize_site_status(session: SessionDep, caller: CallerDep) -> dict[str, Any]:
    """Fleet convergence at a glance: how many sites are in sync with their desired revision."""
    return site_channel.summarize(session, caller)


@router.post(
    "/sites/{siteId}/enrollment-token", status_code=201, operation_id="issueEnrollmentToken"
)
def issue_enrollment_token(
    siteId: str, session: SessionDep, caller: CallerDep, runtime: RuntimeDep
) -> EnrollmentTokenPublic:
    """A new one-time token for the site (re-enrollment); an earlier unused one stops working."""
    return _token_public(enrollment.issue_token(session, caller, siteId), runtime)


@router.post("/sites/{siteId}/revoke", operation_id="revokeSite")
def revoke_site(siteId: str, session: SessionDep, caller: CallerDep) -> SitePublic:
    """Revokes the site's certificate at once; it needs a new token to come back."""
    return SitePublic.of(enrollment.revoke(session, caller, siteId))


@router.get("/sites/{siteId}/desired-state", operation_id="readDesiredState")
def read_desired_state(siteId: str, session: SessionDep, caller: CallerDep) -> DesiredStatePublic:
    sites.read_site(session, caller, siteId)
    found = documents.get_desired(session, siteId)
    return DesiredStatePublic(site_id=siteId, revision=found.revision, document=found.document)


@router.put("/sites/{siteId}/desired-state", operation_id="writeDesiredState")
def write_desired_state(
    siteId: str, body: dict[str, Any], session: SessionDep, caller: CallerDep
) -> DesiredStatePublic:
    """Sets the site's desired state directly (the orchestrator does this for NS instances)."""
    (written,) = documents.set_desired(session, caller, [siteId], body)
    return DesiredStatePublic(site_id=siteId, revision=written.revision, document=written.document)


@router.post("/desired-state", operation_id="writeDesiredStateBulk")
def write_desired_state_bulk(
    body: BulkDesiredState, session: SessionDep, caller: CallerDep
) -> list[dict[str, Any]]:
    """Sets one desired state on many sites in one transaction; every site gets revision + 1."""
    written = documents.set_desired(session, caller, body.site_ids, body.document)
    return [{"siteId": w.site_id, "revision": w.revision} for w in written]


@router.get("/sites/{siteId}/status", operation_id="readSiteStatus")
def read_site_status(siteId: str, session: SessionDep, caller: CallerDep) -> SiteStatusPublic:
    sites.read_site(session, caller, siteId)
    return SiteStatusPublic.of(site_channel.get_status(session, siteId))


@router.get("/sites/{siteId}/counters", operation_id="readSiteCounters")
def read_site_counters(siteId: str, session: SessionDep, caller: CallerDep) -> dict[str, Any]:
    """The site's latest counters (packets, bytes, drops per rule, class and queue, per VNF;
    per real-time policy rule, `policy`); sites send them when they change, at most once a
    minute by default, and every 50 s while they probe WAN links."""
    sites.read_site(session, caller, siteId)
    counters = site_channel.get_counters(session, siteId)
    at = counters["at"]
    return counters | {"at": at.isoformat() if at is not None else None}


@router.get("/sites/{siteId}", operation_id="readSite")
def read_site(siteId: str, session: SessionDep, caller: CallerDep) -> SitePublic:
    return SitePublic.of(sites.read_site(session, caller, siteId))


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
    overlays.delete_site(session, caller, siteId)
    return Response(status_code=204)


@router.get("/site-groups", operation_id="listSiteGroups", response_model=list[SiteGroupPublic])
def list_site_groups(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    found = sites.list_groups(session, caller, marker=page.marker, limit=page.limit)
    items = [dump(SiteGroupPublic.of(g)) for g in found.items]
    return page_response(request, items, found.next_marker)


@router.post("/site-groups", status_code=201, operation_id="createSiteGroup")
def create_site_group(
    body: SiteGroupCreate, session: SessionDep, caller: CallerDep
) -> SiteGroupPublic:
    group = sites.create_group(
        session,
        caller,
        body.name,
        body.site_ids,
        description=body.description,
        tenant_id=body.tenant_id,
    )
    return SiteGroupPublic.of(group)


@router.get("/site-groups/{groupId}", operation_id="readSiteGroup")
def read_site_group(groupId: str, session: SessionDep, caller: CallerDep) -> SiteGroupPublic:
    return SiteGroupPublic.of(sites.read_group(session, caller, groupId))


@router.patch("/site-groups/{groupId}", operation_id="updateSiteGroup")
def update_site_group(
    groupId: str,
    body: SiteGroupUpdate,
    session: SessionDep,
    caller: CallerDep,
) -> SiteGroupPublic:
    group = sites.update_group(
        session, caller, groupId, site_ids=body.site_ids, description=body.description
    )
    return SiteGroupPublic.of(group)


@router.delete("/site-groups/{groupId}", status_code=204, operation_id="deleteSiteGroup")
def delete_site_group(groupId: str, session: SessionDep, caller: CallerDep) -> Response:
    sites.delete_group(session, caller, groupId)
    return Response(status_code=204)
