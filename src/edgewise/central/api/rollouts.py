"""Native API: rollouts of an NSD to a fleet, in waves (`api/v1/rollouts`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from edgewise.central.api.deps import CallerDep, NsdsDep, PageDep, SessionDep
from edgewise.central.api.lcm_requests import PlacementCriteria, criteria_request
from edgewise.central.api.listing import page_in_memory, page_response
from edgewise.central.orchestrator import rollouts

router = APIRouter(prefix="/api/v1", tags=["rollouts"])
RolloutId = Annotated[str, Path(alias="rolloutId")]


class RolloutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=63)
    nsdId: str = Field(description="the NSD's NsdInfo id")
    labels: str | None = Field(default=None, description="label selector key=value[,...]")
    group: str | None = Field(default=None, description="a site group id")
    placement: PlacementCriteria | None = Field(
        default=None, description="kind and minFreeSlots are used; labels may be given here too"
    )
    batchSize: int = Field(default=100, ge=1, le=100_000)
    maxFailures: int = Field(
        default=0, ge=0, le=1_000_000, description="sites that may fail before it pauses"
    )
    tenantId: str | None = None


def rollout_view(rollout: rollouts.Rollout, base: str) -> dict[str, Any]:
    """The live view: state, waves, how many sites are where, the first failures."""
    return {
        "id": rollout.id,
        "name": rollout.name,
        "nsdId": rollout.nsd_info_id,
        "tenantId": rollout.tenant_id,
        "state": rollout.state,
        "reason": rollout.reason,
        "batchSize": rollout.batch_size,
        "maxFailures": rollout.max_failures,
        "total": rollout.total,
        "waves": rollout.waves,
        "wave": rollout.wave,
        "sites": rollout.sites,
        "failed": rollout.failed,
        "notChosen": rollout.not_chosen,
        "createdAt": rollout.created_at.isoformat(),
        "_links": {"self": {"href": f"{base}api/v1/rollouts/{rollout.id}"}},
    }


@router.post("/rollouts", status_code=201, operation_id="createRollout")
def create_rollout(
    body: RolloutCreate, request: Request, session: SessionDep, caller: CallerDep, nsds: NsdsDep
) -> JSONResponse:
    """Chooses the sites (labels, group, kind, free slots) and starts rolling out, wave by wave."""
    criteria = body.placement or PlacementCriteria()
    if body.labels is not None:
        criteria = criteria.model_copy(update={"labels": body.labels})
    rollout = rollouts.create(
        session,
        caller,
        nsds,
        name=body.name,
        nsd_info_id=body.nsdId,
        target=rollouts.Target(criteria_request(criteria, "placement"), body.group),
        batch_size=body.batchSize,
        max_failures=body.maxFailures,
        tenant_id=body.tenantId,
    )
    view = rollout_view(rollout, str(request.base_url))
    return JSONResponse(view, status_code=201, headers={"Location": view["_links"]["self"]["href"]})


@router.get("/rollouts", operation_id="listRollouts")
def list_rollouts(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    base = str(request.base_url)
    views = [rollout_view(r, base) for r in rollouts.list_all(session, caller)]
    chunk, marker = page_in_memory(views, page.marker, page.limit)
    return page_response(request, chunk, marker)


@router.get("/rollouts/{rolloutId}", operation_id="readRollout")
def read_rollout(
    rollout_id: RolloutId, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    return rollout_view(rollouts.get(session, caller, rollout_id), str(request.base_url))


@router.post("/rollouts/{rolloutId}/pause", operation_id="pauseRollout")
def pause_rollout(
    rollout_id: RolloutId, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    """No new wave starts; the wave in progress finishes."""
    return rollout_view(rollouts.pause(session, caller, rollout_id), str(request.base_url))


@router.post("/rollouts/{rolloutId}/resume", operation_id="resumeRollout")
def resume_rollout(
    rollout_id: RolloutId, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    """Runs again with a fresh failure budget."""
    return rollout_view(rollouts.resume(session, caller, rollout_id), str(request.base_url))


@router.post("/rollouts/{rolloutId}/abort", operation_id="abortRollout")
def abort_rollout(
    rollout_id: RolloutId, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    """Stops for good; sites not started yet are skipped."""
    return rollout_view(rollouts.abort(session, caller, rollout_id), str(request.base_url))
