"""SOL005's PNF descriptors (`nsd/v1/pnf_descriptors`), an explicit gap: Edgewise has no PNF
model, so every request there is a 404 ProblemDetails that says so (rather than the one for an
unknown path). NSDs list no `pnfdInfoIds` and NSD subscriptions refuse PNFD filters (422)."""

from __future__ import annotations

from typing import NoReturn

from fastapi import APIRouter, Depends

from edgewise.central.api.deps import get_caller
from edgewise.central.services.errors import NotFound

NO_PNFD = (
    "Edgewise has no PNF descriptors: PNFD management (SOL005 nsd/v1/pnf_descriptors) is not "
    "supported, as Edgewise models no PNFs"
)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
router = APIRouter(prefix="/nsd/v1", dependencies=[Depends(get_caller)])


@router.api_route("/pnf_descriptors", methods=METHODS, include_in_schema=False, response_model=None)
@router.api_route(
    "/pnf_descriptors/{rest:path}", methods=METHODS, include_in_schema=False, response_model=None
)
def no_pnf_descriptors() -> NoReturn:
    raise NotFound(NO_PNFD)
