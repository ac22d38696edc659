"""Native API: a rollout's dry run (`POST api/v1/rollouts/preview`): the sites it would take,
in which waves, and those it would leave out with the reason — nothing is started."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from edgewise.central.api.deps import CallerDep, NsdsDep, SessionDep
from edgewise.central.api.lcm_requests import PlacementCriteria, criteria_request
from edgewise.central.api.rollouts import RolloutCreate
from edgewise.central.orchestrator import rollouts
from edgewise.central.services import lcm_pages

router = APIRouter(prefix="/api/v1", tags=["rollouts"])


@router.post("/rollouts/preview", operation_id="previewRollout")
def preview_rollout(
    body: RolloutCreate, session: SessionDep, caller: CallerDep, nsds: NsdsDep
) -> dict[str, Any]:
    """The rollout `POST /rollouts` would start with this body, planned by the same code and
    then rolled back: its sites by wave (`state` DONE: already on this version; SKIPPED: an
    operation in progress), and the sites not chosen with the reason."""
    criteria = body.placement or PlacementCriteria()
    if body.labels is not None:
        criteria = criteria.model_copy(update={"labels": body.labels})
    try:
        planned = rollouts.create(
            session, caller, nsds, name=body.name, nsd_info_id=body.nsdId,
            target=rollouts.Target(criteria_request(criteria, "placement"), body.group),
            batch_size=body.batchSize, max_failures=body.maxFailures, tenant_id=body.tenantId,
        )  # fmt: skip
        sites = lcm_pages.rollout_sites(session, caller, planned.id)
    finally:
        session.rollback()
    return {
        "total": planned.total,
        "waves": planned.waves,
        "sites": [
            {"siteId": s.site_id, "siteName": s.site_name, "wave": s.wave, "state": s.state}
            for s in sites
        ],
        "notChosen": planned.not_chosen,
    }
