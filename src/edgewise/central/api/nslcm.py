"""SOL005 NS life-cycle management (`nslcm/v1`): NS instances and their operation occurrences.

NS instances are created, read, listed and deleted; instantiate, scale, update, heal and
terminate start operation occurrences, which are read, listed, retried, rolled back,
continued, failed and cancelled; subscriptions are the shared SOL005 ones (api.subscriptions).
Sites are named in `additionalParamsForNs.sites` (ids or names) or chosen by `placement`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgewise.central.api.deps import CallerDep, PageDep, SessionDep
from edgewise.central.api.listing import sol013_listing
from edgewise.central.api.subscriptions import (
    SubscriptionRequest,
    SubscriptionResource,
    subscription_router,
)
from edgewise.central.services import notifications, nslcm
from edgewise.central.services.errors import InputProblem, Invalid, Unprocessable
from edgewise.central.services.subscriptions import Api
from edgewise.central.store.tables import NsInstanceRow, NsLcmOpOccRow
from edgewise.model import placement
from edgewise.model.sites import LabelSelector, SiteKind

router = APIRouter(prefix="/nslcm/v1", tags=["SOL005 NS life cycle"])
NsInstanceId = Annotated[str, Path(alias="nsInstanceId")]
OpOccId = Annotated[str, Path(alias="nsLcmOpOccId")]

NS_FIELDS = {
    "id", "nsInstanceName", "nsInstanceDescription", "nsdId", "nsdInfoId", "flavourId",
    "nsState", "_links", "tenantId", "sites",
}  # fmt: skip
OP_FIELDS = {
    "id", "operationState", "statusEnteredTime", "nsInstanceId", "lcmOperationType",
    "startTime", "isAutomaticInvocation", "operationParams", "isCancelPending", "error",
    "_links", "sitesTotal", "sitesDone",
}  # fmt: skip


class CreateNsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nsdId: str = Field(description="the id of the NSD's NsdInfo (nsd/v1/ns_descriptors/{id})")
    nsName: str = Field(min_length=1, max_length=255)
    nsDescription: str = Field(default="", max_length=1024)
    tenantId: str | None = Field(
        default=None, description="Edgewise: the owning tenant (admins only; none = provider)"
    )


class InstantiateNsRequest(BaseModel):
    """SOL005 InstantiateNsRequest; Edgewise reads `additionalParamsForNs.sites`."""

    model_config = ConfigDict(extra="allow")
    nsFlavourId: str | None = Field(
        default=None, description="required; checked after the NS instance is found"
    )
    additionalParamsForNs: dict[str, Any] = Field(default_factory=dict)

    def placement(self) -> placement.Request:
        return placement_request(self.additionalParamsForNs, "additionalParamsForNs")


class PlacementCriteria(BaseModel):
    """Where an NS may go when no site is named: the sites matching every criterion given."""

    model_config = ConfigDict(extra="forbid")
    labels: str | None = Field(default=None, description="label selector key=value[,key=value]")
    kind: SiteKind | None = None
    minFreeSlots: int = Field(default=0, ge=0, description="VNF slots left free after placing")
    strategy: placement.Strategy = placement.Strategy.LEAST_OCCUPIED
    count: int | None = Field(default=None, ge=1, description="how many sites (default: all)")
    spreadBy: str = Field(default="region", description="spread: the label to spread over")


class PlacementQuery(BaseModel):
    """A dry run: where the NS instance would go, and why every other site would not."""

    model_config = ConfigDict(extra="forbid")
    sites: list[str] = Field(default_factory=list)
    placement: PlacementCriteria | None = None


def placement_request(params: dict[str, Any], where: str) -> placement.Request:
    """The placement an instantiation asks for: `sites` named, or `placement` criteria."""
    sites = params.get("sites", [])
    if not isinstance(sites, list) or not all(isinstance(s, str) and s for s in sites):
        raise Invalid(
            "the placement is not valid",
            [InputProblem(f"{where}.sites", "expected an array of site ids or names")],
        )
    raw = params.get("placement")
    if raw is not None and sites:
        raise Invalid(
            "the placement is not valid",
            [InputProblem(where, "give either sites or placement criteria, not both")],
        )
    if raw is None:
        return placement.Request(slots=0, sites=tuple(sites))
    try:
        criteria = PlacementCriteria.model_validate(raw)
    except ValidationError as exc:
        raise Invalid(
            "the placement criteria are not valid",
            [
                InputProblem(
                    ".".join([where, "placement", *(str(p) for p in error["loc"])]), error["msg"]
                )
                for error in exc.errors()
            ],
        ) from exc
    return criteria_request(criteria, f"{where}.placement")


def criteria_request(criteria: PlacementCriteria, where: str) -> placement.Request:
    try:
        selector = LabelSelector.parse(criteria.labels) if criteria.labels else None
    except ValueError as exc:
        raise Invalid(
            "the label selector is not valid", [InputProblem(f"{where}.labels", str(exc))]
        ) from exc
    return placement.Request(
        slots=0,
        selector=selector,
        kind=criteria.kind,
        min_free_slots=criteria.minFreeSlots,
        strategy=criteria.strategy,
        count=criteria.count,
        spread_by=criteria.spreadBy,
    )


class TerminateNsRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    terminationTime: datetime | None = None


def ns_instance(row: NsInstanceRow, base: str) -> dict[str, Any]:
    href = f"{base}nslcm/v1/ns_instances/{row.id}"
    document: dict[str, Any] = {
        "id": row.id,
        "nsInstanceName": row.name,
        "nsInstanceDescription": row.description,
        "nsdId": row.nsd_id,
        "nsdInfoId": row.nsd_info_id,
        "nsState": row.state,
        "tenantId": row.tenant_id,
        "sites": list(row.site_ids),
        "_links": {
            "self": {"href": href},
            **{
                action: {"href": f"{href}/{action}"}
                for action in (
                    ("instantiate",)
                    if row.state == nslcm.NsState.NOT_INSTANTIATED
                    else ("terminate",)
                )
            },
        },
    }
    if row.flavour_id is not None:
        document["flavourId"] = row.flavour_id
    if row.state == nslcm.NsState.INSTANTIATED and row.scale_status:
        running = set(row.site_ids)
        document["nsScaleStatus"] = [
            {"nsScalingAspectId": aspect, "nsScaleLevelId": str(sum(s in running for s in sites))}
            for aspect, sites in sorted(row.scale_status.items())
        ]
    return document


def op_occ(row: NsLcmOpOccRow, base: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": row.id,
        "operationState": row.state,
        "statusEnteredTime": _time(row.state_entered_time),
        "nsInstanceId": row.ns_instance_id,
        "lcmOperationType": row.operation,
        "startTime": _time(row.start_time),
        "isAutomaticInvocation": False,
        "operationParams": row.operation_params,
        "isCancelPending": False,
        "sitesTotal": len(row.targets),
        "sitesDone": row.sites_done,
        "_links": {
            "self": {"href": f"{base}nslcm/v1/ns_lcm_op_occs/{row.id}"},
            "nsInstance": {"href": f"{base}nslcm/v1/ns_instances/{row.ns_instance_id}"},
        },
    }
    if row.error is not None:
        document["error"] = row.error
    return document


def _time(moment: datetime) -> str:
    """RFC 3339 in UTC (SQLite hands back naive UTC times)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _accepted(request: Request, op: NsLcmOpOccRow) -> Response:
    location = f"{request.base_url}nslcm/v1/ns_lcm_op_occs/{op.id}"
    return Response(status_code=202, headers={"Location": location})


@router.post("/ns_instances", status_code=201, operation_id="createNsInstance")
def create_ns_instance(
    body: CreateNsRequest, request: Request, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    row = nslcm.create_instance(
        session,
        caller,
        nsd_info_id=body.nsdId,
        name=body.nsName,
        description=body.nsDescription,
        tenant_id=body.tenantId,
    )
    document = ns_instance(row, str(request.base_url))
    return JSONResponse(
        document, status_code=201, headers={"Location": document["_links"]["self"]["href"]}
    )


@router.get("/ns_instances", operation_id="listNsInstances")
def list_ns_instances(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    base = str(request.base_url)
    documents = [ns_instance(r, base) for r in nslcm.list_instances(session, caller)]
    return sol013_listing(request, documents, page, NS_FIELDS)


@router.get("/ns_instances/{nsInstanceId}", operation_id="readNsInstance")
def read_ns_instance(
    ns_instance_id: NsInstanceId, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    return ns_instance(nslcm.get_instance(session, caller, ns_instance_id), str(request.base_url))


@router.delete("/ns_instances/{nsInstanceId}", status_code=204, operation_id="deleteNsInstance")
def delete_ns_instance(
    ns_instance_id: NsInstanceId, session: SessionDep, caller: CallerDep
) -> Response:
    nslcm.delete_instance(session, caller, ns_instance_id)
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
) -> Response:
    """Starts the instantiation; `Location` names the operation occurrence to follow."""
    op = nslcm.instantiate(
        session,
        caller,
        ns_instance_id,
        flavour_id=body.nsFlavourId,
        placement=body.placement(),
        params=body.model_dump(mode="json", exclude_none=True),
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
    return _accepted(request, nslcm.terminate(session, caller, ns_instance_id, params=params))


@router.get("/ns_lcm_op_occs", operation_id="listNsLcmOpOccs")
def list_ns_lcm_op_occs(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    base = str(request.base_url)
    documents = [op_occ(r, base) for r in nslcm.list_operations(session, caller)]
    return sol013_listing(request, documents, page, OP_FIELDS)


@router.get("/ns_lcm_op_occs/{nsLcmOpOccId}", operation_id="readNsLcmOpOcc")
def read_ns_lcm_op_occ(
    op_occ_id: OpOccId, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    return op_occ(nslcm.get_operation(session, caller, op_occ_id), str(request.base_url))


@router.post("/ns_instances/{nsInstanceId}/placement", operation_id="planNsPlacement")
def plan_ns_placement(
    ns_instance_id: NsInstanceId,
    body: PlacementQuery,
    session: SessionDep,
    caller: CallerDep,
) -> dict[str, Any]:
    """Edgewise: a dry run of the placement — the sites chosen, every other site with the
    reason, and why the placement would be refused (empty when it would not)."""
    ask = (
        placement.Request(slots=0, sites=tuple(body.sites))
        if body.sites or body.placement is None
        else criteria_request(body.placement, "placement")
    )
    plan = nslcm.plan_placement(session, caller, ns_instance_id, ask)
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


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cancelMode: Literal["GRACEFUL", "FORCEFUL"] = "GRACEFUL"


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
    return _accepted(request, nslcm.retry(session, caller, op_occ_id))


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
    return _accepted(request, nslcm.rollback(session, caller, op_occ_id))


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
    return _accepted(request, nslcm.cancel(session, caller, op_occ_id))


@router.post("/ns_lcm_op_occs/{nsLcmOpOccId}/fail", operation_id="failNsLcmOpOcc")
def fail_op_occ(
    op_occ_id: OpOccId, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    """Marks a FAILED_TEMP operation FAILED for good."""
    return op_occ(nslcm.fail(session, caller, op_occ_id), str(request.base_url))


class HealNsRequest(BaseModel):
    """SOL005 HealNsRequest: Edgewise re-issues the NS's desired state on every site."""

    model_config = ConfigDict(extra="allow")


class UpdateNsRequest(BaseModel):
    """SOL005 UpdateNsRequest. Edgewise acts on MODIFY_VNF_INFORMATION (`modifyVnfInfoData`:
    VNF name as `vnfInstanceId`, new configuration as `vnfConfigurableProperties`), on
    ASSOC_NEW_NSD_VERSION (`assocNewNsdVersionData.newNsdId`: another version of the NSD, by
    nsdId or NsdInfo id; its VNF configurations replace the current ones on every site) and on
    its own CHANGE_SITES (`changeSitesData`: `add` and `remove`, site ids or names)."""

    model_config = ConfigDict(extra="allow")
    updateType: str | None = Field(default=None, description="required")
    modifyVnfInfoData: list[dict[str, Any]] = Field(default_factory=list)
    changeSitesData: dict[str, list[str]] = Field(default_factory=dict)
    assocNewNsdVersionData: dict[str, Any] = Field(default_factory=dict)

    def change(self) -> nslcm.Change:
        if self.updateType is None:
            raise Invalid("the update is not valid", [InputProblem("updateType", "missing")])
        if self.updateType == "ASSOC_NEW_NSD_VERSION":
            new_nsd = self.assocNewNsdVersionData.get("newNsdId")
            if not isinstance(new_nsd, str) or not new_nsd:
                raise Invalid(
                    "the update is not valid",
                    [InputProblem("assocNewNsdVersionData.newNsdId",
                                  "missing: the new version's nsdId (or its NsdInfo id)")],
                )  # fmt: skip
            return nslcm.Change({}, new_nsd=new_nsd)
        if self.updateType not in UPDATE_TYPES:
            raise Unprocessable(
                "this update type is not supported",
                [InputProblem("updateType", f"{self.updateType!r}: Edgewise supports "
                              + ", ".join(UPDATE_TYPES))],
            )  # fmt: skip
        configs: dict[str, dict[str, Any]] = {}
        paths: dict[str, str] = {}
        problems = []
        for index, item in enumerate(self.modifyVnfInfoData):
            name, props = item.get("vnfInstanceId"), item.get("vnfConfigurableProperties")
            if not isinstance(name, str) or not isinstance(props, dict):
                problems.append(InputProblem(
                    f"modifyVnfInfoData[{index}]",
                    "needs vnfInstanceId (a VNF's name) and vnfConfigurableProperties (an object)",
                ))  # fmt: skip
            elif name in configs:
                problems.append(InputProblem(
                    f"modifyVnfInfoData[{index}].vnfInstanceId",
                    f"{name!r} is changed by {paths[name]} already",
                ))  # fmt: skip
            else:
                configs[name] = props
                paths[name] = f"modifyVnfInfoData[{index}]"
        unknown = set(self.changeSitesData) - {"add", "remove"}
        if unknown:
            problems.append(InputProblem("changeSitesData", "only 'add' and 'remove' are known"))
        if problems:
            raise Invalid("the update is not valid", problems)
        if self.updateType == "MODIFY_VNF_INFORMATION" and not configs:
            raise Invalid("nothing to update", [InputProblem("modifyVnfInfoData", "empty")])
        if self.updateType == "CHANGE_SITES" and not any(self.changeSitesData.values()):
            raise Invalid("nothing to update", [InputProblem("changeSitesData", "empty")])
        return nslcm.Change(
            configs,
            tuple(self.changeSitesData.get("add", [])),
            tuple(self.changeSitesData.get("remove", [])),
            config_paths=paths,
        )


UPDATE_TYPES = ("MODIFY_VNF_INFORMATION", "CHANGE_SITES", "ASSOC_NEW_NSD_VERSION")


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
    return _accepted(request, nslcm.heal(session, caller, ns_instance_id, params=params))


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
) -> Response:
    nslcm.get_instance(session, caller, ns_instance_id)  # another tenant's: 404 before 400
    op = nslcm.update_ns(
        session, caller, ns_instance_id, change=body.change(),
        params=body.model_dump(mode="json", exclude_none=True),
    )  # fmt: skip
    return _accepted(request, op)


class ScaleNsRequest(BaseModel):
    """SOL005 ScaleNsRequest. Edgewise scales an NS by sites (SCALE_NS): `scaleNsData` with
    `scaleNsByStepsData` (scalingDirection, aspectId, numberOfSteps) or `scaleNsToLevelData`
    (`nsScaleInfo`: nsScalingAspectId and nsScaleLevelId, a level number); new sites come
    from `scaleNsData.additionalParamsForNs` (sites or placement, as for instantiate) or else
    from the placement criteria the NS was instantiated with."""

    model_config = ConfigDict(extra="allow")
    scaleType: str | None = Field(default=None, description="required: SCALE_NS")
    scaleNsData: dict[str, Any] = Field(default_factory=dict)

    def change(self, reuse: dict[str, Any]) -> nslcm.ScaleChange:
        if self.scaleType is None:
            raise Invalid("the scaling is not valid", [InputProblem("scaleType", "missing")])
        if self.scaleType != "SCALE_NS":
            raise Unprocessable(
                "this scale type is not supported",
                [InputProblem("scaleType", f"{self.scaleType!r}: an Edgewise site runs one "
                              "instance of each VNF of an NS; scale the NS (SCALE_NS) by sites")],
            )  # fmt: skip
        data = self.scaleNsData
        steps, levels = (
            _scale_steps(data.get("scaleNsByStepsData")),
            _scale_levels(data.get("scaleNsToLevelData")),
        )
        if (steps is None) == (levels is None):
            raise Invalid(
                "the scaling is not valid",
                [InputProblem("scaleNsData", "give exactly one of scaleNsByStepsData and "
                              "scaleNsToLevelData")],
            )  # fmt: skip
        params = data.get("additionalParamsForNs")
        where = "scaleNsData.additionalParamsForNs"
        if not isinstance(params, dict) or not params:
            params, where = reuse, "the instantiation's additionalParamsForNs"
        ask = placement_request(params, where) if params else None
        if ask is not None and not ask.explicit and ask == placement.Request(slots=0):
            ask = None
        return nslcm.ScaleChange(steps or {}, levels or {}, ask, where)


def _scale_steps(value: object) -> dict[str, int] | None:
    if value is None:
        return None
    where = "scaleNsData.scaleNsByStepsData"
    if not isinstance(value, dict):
        raise Invalid("the scaling is not valid", [InputProblem(where, "expected an object")])
    problems = []
    direction, aspect = value.get("scalingDirection"), value.get("aspectId")
    number = value.get("numberOfSteps", 1)
    if direction not in ("SCALE_OUT", "SCALE_IN"):
        problems.append(InputProblem(f"{where}.scalingDirection", "SCALE_OUT or SCALE_IN"))
    if not isinstance(aspect, str) or not aspect:
        problems.append(InputProblem(f"{where}.aspectId", "missing: an NS scaling aspect id"))
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        problems.append(InputProblem(f"{where}.numberOfSteps", "a whole number, at least 1"))
    if problems:
        raise Invalid("the scaling is not valid", problems)
    assert isinstance(aspect, str)
    assert isinstance(number, int)
    return {aspect: number if direction == "SCALE_OUT" else -number}


def _scale_levels(value: object) -> dict[str, int] | None:
    if value is None:
        return None
    where = "scaleNsData.scaleNsToLevelData"
    if not isinstance(value, dict):
        raise Invalid("the scaling is not valid", [InputProblem(where, "expected an object")])
    if "nsInstantiationLevel" in value:
        raise Unprocessable(
            "this scaling is not supported",
            [InputProblem(f"{where}.nsInstantiationLevel", "Edgewise NSDs declare no NS "
                          "instantiation levels; give nsScaleInfo")],
        )  # fmt: skip
    infos = value.get("nsScaleInfo")
    if not isinstance(infos, list) or not infos:
        raise Invalid(
            "the scaling is not valid",
            [InputProblem(f"{where}.nsScaleInfo", "expected a non-empty array")],
        )
    levels: dict[str, int] = {}
    problems = []
    for index, info in enumerate(infos):
        at = f"{where}.nsScaleInfo[{index}]"
        aspect = info.get("nsScalingAspectId") if isinstance(info, dict) else None
        level = info.get("nsScaleLevelId") if isinstance(info, dict) else None
        if not isinstance(aspect, str) or not aspect:
            problems.append(InputProblem(f"{at}.nsScalingAspectId", "missing"))
        elif not isinstance(level, str | int) or not str(level).isdigit():
            problems.append(InputProblem(f"{at}.nsScaleLevelId", "a level number, 0 or more"))
        else:
            levels[aspect] = int(level)
    if problems:
        raise Invalid("the scaling is not valid", problems)
    return levels


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
) -> Response:
    """Scales the NS out to more sites or in off some, by an NS scaling aspect of its NSD."""
    nslcm.get_instance(session, caller, ns_instance_id)  # another tenant's: 404 before 400
    reuse = nslcm.instantiation_params(session, ns_instance_id).get("additionalParamsForNs")
    change = body.change(reuse if isinstance(reuse, dict) and "placement" in reuse else {})
    op = nslcm.scale(
        session, caller, ns_instance_id, change=change,
        params=body.model_dump(mode="json", exclude_none=True),
    )  # fmt: skip
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
    return _accepted(request, nslcm.continue_(session, caller, op_occ_id))
