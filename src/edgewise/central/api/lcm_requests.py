"""The request bodies of SOL005 NS lifecycle management (`nslcm/v1`), checked and turned into
the orchestrator's requests: placement (sites named or criteria), updates, scaling."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from edgewise.central.api.vnf_requests import new_vnfs, removed_vnfs
from edgewise.central.orchestrator import lifecycle, scaling, software
from edgewise.central.services.errors import InputProblem, Invalid, Unprocessable
from edgewise.model import placement
from edgewise.model.sites import LabelSelector, SiteKind


class CreateNsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nsdId: str = Field(description="the id of the NSD's NsdInfo (nsd/v1/ns_descriptors/{id})")
    nsName: str = Field(min_length=1, max_length=255)
    nsDescription: str = Field(default="", max_length=1024)
    tenantId: str | None = Field(
        default=None, description="Edgewise: the owning tenant (admins only; none = provider)"
    )


class InstantiateNsRequest(BaseModel):
    """SOL005 InstantiateNsRequest; Edgewise reads `additionalParamsForNs.sites` (or
    `placement`) and `additionalParamsForVnf` (SOL005 ParamsForVnf: `vnfProfileId` and
    `additionalParams`, the parameters of a third-party VNF, checked against its VNFD's inputs)."""

    model_config = ConfigDict(extra="allow")
    nsFlavourId: str | None = Field(
        default=None, description="required; checked after the NS instance is found"
    )
    additionalParamsForNs: dict[str, Any] = Field(default_factory=dict)
    additionalParamsForVnf: list[Any] = Field(default_factory=list)

    def placement(self) -> placement.Request:
        return placement_request(self.additionalParamsForNs, "additionalParamsForNs")

    def vnf_params(self) -> dict[str, software.VnfParams]:
        """The parameters given per VNF profile; Invalid naming each malformed entry."""
        found: dict[str, software.VnfParams] = {}
        problems = []
        for index, item in enumerate(self.additionalParamsForVnf):
            where = f"additionalParamsForVnf[{index}]"
            profile = item.get("vnfProfileId") if isinstance(item, dict) else None
            values = item.get("additionalParams", {}) if isinstance(item, dict) else None
            if not isinstance(profile, str) or not profile:
                problems.append(
                    InputProblem(
                        f"{where}.vnfProfileId",
                        "missing: the VNF profile (the NSD's VNF node) the params are for",
                    )
                )
            elif not isinstance(values, dict):
                problems.append(InputProblem(f"{where}.additionalParams", "expected an object "
                                             "of the VNFD's inputs"))  # fmt: skip
            elif profile in found:
                problems.append(
                    InputProblem(
                        f"{where}.vnfProfileId", f"{profile!r} is given by {found[profile].where}"
                    )
                )
            else:
                found[profile] = software.VnfParams(values, where)
        if problems:
            raise Invalid("the VNF parameters are not valid", problems)
        return found


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


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cancelMode: Literal["GRACEFUL", "FORCEFUL"] = "GRACEFUL"


class HealNsRequest(BaseModel):
    """SOL005 HealNsRequest: Edgewise re-issues the NS's desired state on every site."""

    model_config = ConfigDict(extra="allow")


class UpdateNsRequest(BaseModel):
    """SOL005 UpdateNsRequest. Edgewise acts on MODIFY_VNF_INFORMATION (`modifyVnfInfoData`:
    VNF name as `vnfInstanceId`, new configuration as `vnfConfigurableProperties`), on
    INSTANTIATE_VNF (`instantiateVnfData`: a VNF package's VNF joins the NS's chain), on
    REMOVE_VNF (`removeVnfInstanceId`: VNF names), on ASSOC_NEW_NSD_VERSION
    (`assocNewNsdVersionData.newNsdId`: another version of the NSD, by nsdId or NsdInfo id; its
    VNF configurations replace the current ones on every site) and on its own CHANGE_SITES
    (`changeSitesData`: `add` and `remove`, site ids or names). A VNF instance's id is its
    name in the NS (vnfInstance[].id of the NsInstance)."""

    model_config = ConfigDict(extra="allow")
    updateType: str | None = Field(default=None, description="required")
    modifyVnfInfoData: list[dict[str, Any]] = Field(default_factory=list)
    instantiateVnfData: list[Any] = Field(default_factory=list)
    removeVnfInstanceId: list[Any] = Field(default_factory=list)
    changeSitesData: dict[str, list[str]] = Field(default_factory=dict)
    assocNewNsdVersionData: dict[str, Any] = Field(default_factory=dict)

    def change(self) -> lifecycle.Change:
        if self.updateType is None:
            raise Invalid("the update is not valid", [InputProblem("updateType", "missing")])
        if self.updateType == "ADD_VNF":
            raise Unprocessable(
                "this update type is not supported",
                [InputProblem("updateType", "'ADD_VNF' adds existing VNF instances "
                              "(addVnfInstance); Edgewise has no VNF instance outside an NS: a "
                              "VNF package's VNF joins a running NS by INSTANTIATE_VNF with "
                              "instantiateVnfData")],
            )  # fmt: skip
        if self.updateType == "INSTANTIATE_VNF":
            return lifecycle.Change({}, add_vnfs=new_vnfs(self.instantiateVnfData))
        if self.updateType == "REMOVE_VNF":
            return lifecycle.Change({}, remove_vnfs=removed_vnfs(self.removeVnfInstanceId))
        if self.updateType == "ASSOC_NEW_NSD_VERSION":
            new_nsd = self.assocNewNsdVersionData.get("newNsdId")
            if not isinstance(new_nsd, str) or not new_nsd:
                raise Invalid(
                    "the update is not valid",
                    [InputProblem("assocNewNsdVersionData.newNsdId",
                                  "missing: the new version's nsdId (or its NsdInfo id)")],
                )  # fmt: skip
            return lifecycle.Change({}, new_nsd=new_nsd)
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
        return lifecycle.Change(
            configs,
            tuple(self.changeSitesData.get("add", [])),
            tuple(self.changeSitesData.get("remove", [])),
            config_paths=paths,
        )


UPDATE_TYPES = (
    "MODIFY_VNF_INFORMATION", "INSTANTIATE_VNF", "REMOVE_VNF", "CHANGE_SITES",
    "ASSOC_NEW_NSD_VERSION",
)  # fmt: skip


class ScaleNsRequest(BaseModel):
    """SOL005 ScaleNsRequest. Edgewise scales a VNF at the NS's sites (SCALE_VNF, `scaleVnfData`:
    orchestrator.scaling_vnf) or an NS by sites (SCALE_NS): `scaleNsData` with
    `scaleNsByStepsData` (scalingDirection, aspectId, numberOfSteps) or `scaleNsToLevelData`
    (`nsScaleInfo`: nsScalingAspectId and nsScaleLevelId, a level number); new sites come
    from `scaleNsData.additionalParamsForNs` (sites or placement, as for instantiate) or else
    from the placement criteria the NS was instantiated with."""

    model_config = ConfigDict(extra="allow")
    scaleType: str | None = Field(default=None, description="required: SCALE_NS or SCALE_VNF")
    scaleNsData: dict[str, Any] = Field(default_factory=dict)
    scaleVnfData: list[Any] | None = Field(
        default=None, description="SCALE_VNF: [{vnfInstanceId, scaleVnfType, scaleByStepData}]"
    )
    isAutomaticInvocation: StrictBool | None = Field(
        default=None, description="true when a policy (not an operator) asks (default false)"
    )

    @property
    def scales_vnfs(self) -> bool:
        """A SCALE_VNF request (scaling_vnf); otherwise `change` reads the SCALE_NS one."""
        return self.scaleType == "SCALE_VNF"

    def change(self, reuse: dict[str, Any]) -> scaling.ScaleChange:
        if self.scaleType is None:
            raise Invalid("the scaling is not valid", [InputProblem("scaleType", "missing")])
        if self.scaleType != "SCALE_NS":
            raise Unprocessable(
                "this scale type is not supported",
                [InputProblem("scaleType", f"{self.scaleType!r}: scale the NS by sites "
                              "(SCALE_NS) or a VNF at its sites (SCALE_VNF)")],
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
        return scaling.ScaleChange(steps or {}, levels or {}, ask, where)


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
