"""Native API: tenants' encrypted overlays (`/api/v1/overlays`): operators create them and move
sites in and out; a tenant reads its own. Routes call `orchestrator.overlays`."""

from __future__ import annotations

from fastapi import APIRouter, Response

from edgewise.central.api.deps import CallerDep, SessionDep
from edgewise.central.api.sdwan_schemas import OverlayCreate, OverlayJoin, OverlayPublic
from edgewise.central.orchestrator import overlays

router = APIRouter(prefix="/api/v1", tags=["sd-wan"])


@router.get("/overlays", operation_id="listOverlays")
def list_overlays(session: SessionDep, caller: CallerDep) -> list[OverlayPublic]:
    return [OverlayPublic.model_validate(o) for o in overlays.list_overlays(session, caller)]


@router.post("/overlays", status_code=201, operation_id="createOverlay")
def create_overlay(body: OverlayCreate, session: SessionDep, caller: CallerDep) -> OverlayPublic:
    """Creates a tenant's overlay; every member gets an inner address and its entry."""
    spec = overlays.OverlaySpec(
        body.tenant_id,
        body.name,
        body.topology,
        body.prefix,
        tuple(body.hubs),
        tuple(body.sites),
        body.selector,
        body.base_port,
        body.key_rotation_h,
    )
    return OverlayPublic.model_validate(overlays.create_overlay(session, caller, spec))


@router.get("/overlays/{overlayId}", operation_id="readOverlay")
def read_overlay(overlayId: str, session: SessionDep, caller: CallerDep) -> OverlayPublic:
    """The overlay: topology, members with their addresses, links, and whether their key is
    known (a member waiting for its key is in no peer's document yet)."""
    return OverlayPublic.model_validate(overlays.read_overlay(session, caller, overlayId))


@router.delete("/overlays/{overlayId}", status_code=204, operation_id="deleteOverlay")
def delete_overlay(overlayId: str, session: SessionDep, caller: CallerDep) -> Response:
    overlays.delete_overlay(session, caller, overlayId)
    return Response(status_code=204)


@router.post("/overlays/{overlayId}/members", operation_id="joinOverlay")
def join_overlay(
    overlayId: str, body: OverlayJoin, session: SessionDep, caller: CallerDep
) -> OverlayPublic:
    found = overlays.join(session, caller, overlayId, body.site_ids, body.links)
    return OverlayPublic.model_validate(found)


@router.delete("/overlays/{overlayId}/members/{siteId}", operation_id="leaveOverlay")
def leave_overlay(
    overlayId: str, siteId: str, session: SessionDep, caller: CallerDep
) -> OverlayPublic:
    return OverlayPublic.model_validate(overlays.leave(session, caller, overlayId, siteId))
