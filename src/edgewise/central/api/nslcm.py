"""SOL005 NS life-cycle management (`nslcm/v1`): NS instances and their operation occurrences.

NS instances are created, read, listed and deleted; instantiate, scale, update, heal and
terminate start operation occurrences, which are read, listed, retried, rolled back,
continued, failed and cancelled; subscriptions are the shared SOL005 ones (api.subscriptions).
Sites are named in `additionalParamsForNs.sites` (ids or names) or chosen by `placement`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from edgewise.central.api.deps import CallerDep, NsdsDep, PageDep, SessionDep
from edgewise.central.api.lcm_requests import (
    CancelRequest,
    CreateNsRequest,
    HealNsRequest,
    InstantiateNsRequest,
    PlacementQuery,
    ScaleNsRequest,
    TerminateNsRequest,
    UpdateNsRequest,
    criteria_request,
)
from edgewise.central.api.listing import sol013_listing
from edgewise.central.api.scale_vnf_requests import scale_vnf_steps
from edgewise.central.api.subscriptions import (
    SubscriptionRequest,
    SubscriptionResource,
    subscription_router,
)
from edgewise.central.orchestrator import (
    instances,
    lifecycle,
    occurrences,
    placing,
    scaling,
    scaling_vnf,
)
from edgewise.central.orchestrator.states import NsState
from edgewise.central.orchestrator.views import LcmOperation, NsInstance, VnfInstance
from edgewise.central.services import notifications
from edgewise.central.services.subscriptions import Api
from edgewise.model import placement

router = APIRouter(prefix="/nslcm/v1", tags=["SOL005 NS life cycle"])
NsInstanceId = Annotated[str, Path(alias="nsInstanceId")]
OpOccId = Annotated[str, Path(alias="nsLcmOpOccId")]

NS_FIELDS = {
    "id", "nsInstanceName", "nsInstanceDescription", "nsdId", "nsdInfoId", "flavourId",
    "nsState", "_links", "tenantId", "sites", "vnfInstance",
}  # fmt: skip
NS_DEFAULT_EXCLUDED = ("vnfInstance",)  # SOL005 6.4.2.3.2: lists leave it out unless asked
OP_FIELDS = {
    "id", "operationState", "statusEnteredTime", "nsInstanceId", "lcmOperationType",
    "startTime", "isAutomaticInvocation", "operationParams", "isCancelPending", "error",
    "_links", "sitesTotal", "sitesDone",
}  # fmt: skip


def ns_instance(ns: NsInstance, base: str) -> dict[str, Any]:
    href = f"{base}nslcm/v1/ns_instances/{ns.id}"
    actions = ("instantiate",) if ns.state is NsState.NOT_INSTANTIATED else ("terminate",)
    document: dict[str, Any] = {
        "id": ns.id,
        "nsInstanceName": ns.name,
        "nsInstanceDescription": ns.description,
        "nsdId": ns.nsd_id,
        "nsdInfoId": ns.nsd_info_id,
        "nsState": ns.state.value,
        "tenantId": ns.tenant_id,
        "sites": list(ns.sites),
        "_links": {
            "self": {"href": href},
            **{action: {"href": f"{href}/{action}"} for action in actions},
        },
    }
    if ns.flavour_id is not None:
        document["flavourId"] = ns.flavour_id
    if ns.vnfs is not None:
        document["vnfInstance"] = [vnf_instance(vnf) for vnf in ns.vnfs]
    if ns.scale_levels:
        document["nsScaleStatus"] = [
            {"nsScalingAspectId": level.aspect_id, "nsScaleLevelId": str(level.level)}
            for level in ns.scale_levels
        ]
    return document


def vnf_instance(vnf: VnfInstance) -> dict[str, Any]:
    """SOL005 VnfInstance; its id (its name in the NS) is what modifyVnfInfoData and
    removeVnfInstanceId name. `metadata` says what Edgewise runs it as."""
    metadata: dict[str, Any] = {"function": vnf.function}
    if vnf.profile is not None:
        metadata["vnfProfileId"] = vnf.profile
    return {
        "id": vnf.id,
        "vnfInstanceName": vnf.id,
        "vnfdId": vnf.vnfd_id,
        "vnfProvider": vnf.provider,
        "vnfProductName": vnf.product,
        "vnfSoftwareVersion": vnf.software_version,
        "vnfdVersion": vnf.vnfd_version,
        "vnfPkgId": vnf.package_id,
        "vnfConfigurableProperties": vnf.properties,
        "instantiationState": "INSTANTIATED",
        "instantiatedVnfInfo": {"flavourId": vnf.flavour_id, "vnfState": "STARTED"},
        "metadata": metadata,
    }


def op_occ(op: LcmOperation, base: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": op.id,
        "operationState": op.state,
        "statusEnteredTime": _time(op.state_entered),
        "nsInstanceId": op.ns_instance_id,
        "lcmOperationType": op.operation,
        "startTime": _time(op.started),
        "isAutomaticInvocation": op.params.get("isAutomaticInvocation") is True,
        "operationParams": op.params,
        "isCancelPending": False,
        "sitesTotal": op.sites_total,
        "sitesDone": op.sites_done,
        "_links": {
            "self": {"href": f"{base}nslcm/v1/ns_lcm_op_occs/{op.id}"},
            "nsInstance": {"href": f"{base}nslcm/v1/ns_instances/{op.ns_instance_id}"},
        },
    }
    if op.error is not None:
        document["error"] = op.error
    return document


def _time(moment: datetime) -> str:
    """RFC 3339 in UTC (SQLite hands back naive UTC times)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _accepted(request: Request, op: LcmOperation) -> Response:
    location = f"{request.base_url}nslcm/v1/ns_lcm_op_occs/{op.id}"
    return Response(status_code=202, headers={"Location": location})


@router.post("/ns_instances", status_code=201, operation_id="createNsInstance")
def create_ns_instance(
    body: CreateNsRequest, request: Request, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    ns = instances.create_instance(
        session,
        caller,
        nsd_info_id=body.nsdId,
        name=body.nsName,
        description=body.nsDescription,
        tenant_id=body.tenantId,
    )
    document = ns_instance(ns, str(request.base_url))
    return JSONResponse(
        document, status_code=201, headers={"Location": document["_links"]["self"]["href"]}
    )


@router.get("/ns_instances", operation_id="listNsInstances")
def list_ns_instances(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep, nsds: NsdsDep
) -> JSONResponse:
    """The NS instances; `vnfInstance` only when the query asks for it (all_fields, fields,
    exclude_fields, or a filter on it): it is read from a site's document per NS."""
    base = str(request.base_url)
    asked = _asks_for_vnfs(request)
    found = instances.list_instances(session, caller, nsds if asked else None)
    documents = [ns_instance(ns, base) for ns in found]
    return sol013_listing(request, documents, page, NS_FIELDS, NS_DEFAULT_EXCLUDED)


def _asks_for_vnfs(request: Request) -> bool:
    query = request.query_params
    if "all_fields" in query or "exclude_fields" in query:
        return True
    return any("vnfInstance" in value for key, value in query.multi_items() if key != "limit")


@router.get("/ns_instances/{nsInstanceId}", operation_id="readNsInstance")
def read_ns_instance(
    ns_instance_id: NsInstanceId,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    nsds: NsdsDep,
) -> dict[str, Any]:
    ns = instances.read_instance(session, caller, ns_instance_id, nsds)
    return ns_instance(ns, str(request.base_url))


@router.delete("/ns_instances/{nsInstanceId}", status_code=204, operation_id="deleteNsInstance")
def delete_ns_instance(
    ns_instance_id: NsInstanceId, session: SessionDep, caller: CallerDep
) -> Response:
    instances.delete_instance(session, caller, ns_instance_id)
    return Response(status_code=204)


@router.post(
    "/ns_instances/{nsInstanceId}/instantiate",
    status_code=202,
    operation_id="instantiateNs",
    response_class=Response,
)
def instantiate_ns(
    ns_instance_id: NsInstanceId,
    body: InstantiateNsRequest,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    nsds: NsdsDep,
) -> Response:
    """Starts the instantiation; `Location` names the operation occurrence to follow."""
    op = lifecycle.instantiate(
        session,
        caller,
        nsds,
        ns_instance_id,
        flavour_id=body.nsFlavourId,
        placement=body.placement(),
        params=body.model_dump(mode="json", exclude_none=True),
        vnf_params=body.vnf_params(),
    )
    return _accepted(request, op)


@router.post(
    "/ns_instances/{nsInstanceId}/terminate",
    status_code=202,
    operation_id="terminateNs",
    response_class=Response,
)
def terminate_ns(
    ns_instance_id: NsInstanceId,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    body: TerminateNsRequest | None = None,
) -> Response:
    params = body.model_dump(mode="json", exclude_none=True) if body else {}
    return _accepted(request, lifecycle.terminate(session, caller, ns_instance_id, params=params))


@router.get("/ns_lcm_op_occs", operation_id="listNsLcmOpOccs")
def list_ns_lcm_op_occs(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    base = str(request.base_url)
    documents = [op_occ(op, base) for op in occurrences.list_operations(session, caller)]
    return sol013_listing(request, documents, page, OP_FIELDS)


@router.get("/ns_lcm_op_occs/{nsLcmOpOccId}", operation_id="readNsLcmOpOcc")
def read_ns_lcm_op_occ(
    op_occ_id: OpOccId, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    return op_occ(occurrences.read_operation(session, caller, op_occ_id), str(request.base_url))


@router.post("/ns_instances/{nsInstanceId}/placement", operation_id="planNsPlacement")
def plan_ns_placement(
    ns_instance_id: NsInstanceId,
    body: PlacementQuery,
    session: SessionDep,
    caller: CallerDep,
    nsds: NsdsDep,
) -> dict[str, Any]:
    """Edgewise: a dry run of the placement — the sites chosen, every other site with the
    reason, and why the placement would be refused (empty when it would not)."""
    ask = (
        placement.Request(slots=0, sites=tuple(body.sites))
        if body.sites or body.placement is None
        else criteria_request(body.placement, "placement")
    )
    plan = placing.plan_placement(session, caller, nsds, ns_instance_id, ask)
    return {
        "chosen": [
            {"siteId": c.id, "siteName": c.name, "freeSlots": c.free, "slots": c.slots}
            for c in plan.chosen
        ],
        "rejected": [
            {"siteId": r.site_id, "siteName": r.site_name, "reason": r.reason}
            for r in plan.rejected
        ],
        "refusal": plan.refusal(ask),
    }


class LccnSubscriptionRequest(SubscriptionRequest):
    """SOL005 LccnSubscriptionRequest (filter: LifecycleChangeNotificationsFilter)."""


router.include_router(
    subscription_router(
        SubscriptionResource(
            api=Api.NSLCM,
            name="LccnSubscription",
            request=LccnSubscriptionRequest,
            check_filter=notifications.validate_filter,
        )
    )
)


@router.post(
    "/ns_lcm_op_occs/{nsLcmOpOccId}/retry",
    operation_id="retryNsLcmOpOcc",
    status_code=202,
    response_class=Response,
)
def retry_op_occ(
    op_occ_id: OpOccId, request: Request, session: SessionDep, caller: CallerDep
) -> Response:
    """Retries a FAILED_TEMP operation on the sites that had not applied it."""
    return _accepted(request, occurrences.retry(session, caller, op_occ_id))


@router.post(
    "/ns_lcm_op_occs/{nsLcmOpOccId}/rollback",
    operation_id="rollbackNsLcmOpOcc",
    status_code=202,
    response_class=Response,
)
def rollback_op_occ(
    op_occ_id: OpOccId, request: Request, session: SessionDep, caller: CallerDep
) -> Response:
    """Rolls a FAILED_TEMP operation back to what the sites ran before it."""
    return _accepted(request, occurrences.rollback(session, caller, op_occ_id))


@router.post(
    "/ns_lcm_op_occs/{nsLcmOpOccId}/cancel",
    operation_id="cancelNsLcmOpOcc",
    status_code=202,
    response_class=Response,
)
def cancel_op_occ(
    op_occ_id: OpOccId,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    body: CancelRequest | None = None,
) -> Response:
    """Stops a PROCESSING or ROLLING_BACK operation: it becomes FAILED_TEMP at once (both
    cancel modes: the sites finish the revision they hold)."""
    del body  # GRACEFUL and FORCEFUL act alike here
    return _accepted(request, occurrences.cancel(session, caller, op_occ_id))


@router.post("/ns_lcm_op_occs/{nsLcmOpOccId}/fail", operation_id="failNsLcmOpOcc")
def fail_op_occ(
    op_occ_id: OpOccId, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    """Marks a FAILED_TEMP operation FAILED for good."""
    return op_occ(occurrences.fail(session, caller, op_occ_id), str(request.base_url))


@router.post(
    "/ns_instances/{nsInstanceId}/heal",
    status_code=202,
    operation_id="healNs",
    response_class=Response,
)
def heal_ns(
    ns_instance_id: NsInstanceId,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    body: HealNsRequest | None = None,
) -> Response:
    """Every site of the NS re-checks its service against the kernel and repairs it."""
    params = body.model_dump(mode="json") if body else {}
    return _accepted(request, lifecycle.heal(session, caller, ns_instance_id, params=params))


@router.post(
    "/ns_instances/{nsInstanceId}/update",
    status_code=202,
    operation_id="updateNs",
    response_class=Response,
)
def update_ns(
    ns_instance_id: NsInstanceId,
    body: UpdateNsRequest,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    nsds: NsdsDep,
) -> Response:
    # another tenant's: 404; not INSTANTIATED or busy: 409; both before the update type (422)
    lifecycle.for_operation(session, caller, ns_instance_id, NsState.INSTANTIATED, "update")
    op = lifecycle.update(
        session, caller, nsds, ns_instance_id, change=body.change(),
        params=body.model_dump(mode="json", exclude_none=True),
    )  # fmt: skip
    return _accepted(request, op)


@router.post(
    "/ns_instances/{nsInstanceId}/scale",
    status_code=202,
    operation_id="scaleNs",
    response_class=Response,
)
def scale_ns(
    ns_instance_id: NsInstanceId,
    body: ScaleNsRequest,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    nsds: NsdsDep,
) -> Response:
    """Scales the NS out to more sites or in off some, by an NS scaling aspect of its NSD
    (SCALE_NS); or VNFs out or in at its sites, by a scaling aspect of their VNFDs (SCALE_VNF)."""
    instances.get_row(session, caller, ns_instance_id)  # another tenant's: 404 before 400
    params = body.model_dump(mode="json", exclude_none=True)
    if body.scales_vnfs:
        steps = scale_vnf_steps(body.scaleVnfData)
        op = scaling_vnf.scale_vnfs(session, caller, nsds, ns_instance_id, steps=steps,
                                    params=params)  # fmt: skip
        return _accepted(request, op)
    reuse = scaling.instantiation_params(session, ns_instance_id).get("additionalParamsForNs")
    change = body.change(reuse if isinstance(reuse, dict) and "placement" in reuse else {})
    op = scaling.scale(session, caller, nsds, ns_instance_id, change=change, params=params)
    return _accepted(request, op)


@router.post(
    "/ns_lcm_op_occs/{nsLcmOpOccId}/continue",
    status_code=202,
    operation_id="continueNsLcmOpOcc",
    response_class=Response,
)
def continue_op_occ(
    op_occ_id: OpOccId, request: Request, session: SessionDep, caller: CallerDep
) -> Response:
    """A FAILED_TEMP operation waits for its sites again, with a new deadline."""
    return _accepted(request, occurrences.continue_(session, caller, op_occ_id))
