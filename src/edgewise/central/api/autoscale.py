"""Native API: auto-scaling rules of an NS instance (docs/elastic-vnfs.md), each with its last
decision; routes call `orchestrator.autoscale_rules`, the tracker judges the rules."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field, ValidationError

from edgewise.central.api.deps import CallerDep, NsdsDep, SessionDep
from edgewise.central.api.schemas import Moment, Schema
from edgewise.central.orchestrator import autoscale_rules, instances
from edgewise.central.orchestrator.autoscale_rules import MAX_COOLDOWN_S, AutoScaleRule, RuleSpec

router = APIRouter(prefix="/api/v1", tags=["auto-scaling"])
NsInstanceId = Annotated[str, Path(alias="nsInstanceId")]
RuleId = Annotated[str, Path(alias="autoscaleRuleId")]
Rate = Annotated[float, Field(ge=0, le=1e15, description="per second")]


class AutoScaleRuleCreate(Schema):
    vnf: str = Field(min_length=1, max_length=64, description="the VNF's name in the NS")
    aspect_id: str = Field(
        min_length=1,
        max_length=64,
        description="a scaling aspect of its VNFD (SCALE_NS: of the NSD)",
    )
    metric: str = Field(description="PacketCount, ByteCount or DropCount: its rate per second")
    scale_out_above: Rate
    scale_in_below: Rate
    cooldown_seconds: int = Field(300, ge=0, le=MAX_COOLDOWN_S)
    min_level: int = Field(0, ge=0, le=64)
    max_level: int | None = Field(None, ge=1, le=64, description="default: the aspect's max")
    scale_type: Literal["SCALE_VNF", "SCALE_NS"] = Field(
        "SCALE_VNF", description="SCALE_VNF: the VNF by its VNFD's aspect; SCALE_NS: the NS by "
        "its NSD's aspect (one more site per step), judged on the VNF's counters")  # fmt: skip
    add_sites: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=16,
        description="SCALE_NS: the sites (ids or names) a scale-out may add, in order")  # fmt: skip

    def spec(self) -> RuleSpec:
        return RuleSpec(self.vnf, self.aspect_id, self.metric, self.scale_out_above,
                        self.scale_in_below, self.cooldown_seconds, self.min_level,
                        self.max_level, self.scale_type, tuple(self.add_sites))  # fmt: skip


class AutoScaleRulePublic(Schema):
    id: str
    ns_instance_id: str
    vnf: str
    aspect_id: str
    metric: str
    scale_out_above: float
    scale_in_below: float
    cooldown_seconds: int
    min_level: int
    max_level: int
    origin: str = Field(
        description="api (an operator's) or descriptor (the VNFD's AutoScale "
        "policy, seeded when the NS was instantiated)"
    )
    scale_type: str
    add_sites: list[str] = Field(description="SCALE_NS: the site ids a scale-out may add")
    created_at: Moment
    last_scaled_at: Moment | None
    last_decision: dict[str, Any] | None = Field(
        description="at, decision (scale-out, scale-in, within-band, held-cool-down, "
        "held-at-max-level, ...), detail, ratePerSecond, level, nsLcmOpOccId"
    )

    @classmethod
    def of(cls, rule: AutoScaleRule) -> AutoScaleRulePublic:
        return cls(id=rule.id, ns_instance_id=rule.ns_instance_id, vnf=rule.vnf,
                   aspect_id=rule.aspect_id, metric=rule.metric,
                   scale_out_above=rule.scale_out_above, scale_in_below=rule.scale_in_below,
                   cooldown_seconds=rule.cooldown_s, min_level=rule.min_level,
                   max_level=rule.max_level, origin=rule.origin, scale_type=rule.scale_type,
                   add_sites=list(rule.add_sites), created_at=rule.created_at,
                   last_scaled_at=rule.scaled_at, last_decision=rule.last_decision)  # fmt: skip


@router.post(
    "/ns-instances/{nsInstanceId}/autoscale-rules",
    status_code=201,
    operation_id="addAutoScaleRule",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": AutoScaleRuleCreate.model_json_schema(by_alias=True)}}}},
)  # fmt: skip
def add_rule(
    ns_instance_id: NsInstanceId,
    body: Annotated[dict[str, Any], Body()],
    session: SessionDep,
    caller: CallerDep,
    nsds: NsdsDep,
) -> AutoScaleRulePublic:
    """Scales a VNF of the NS by a scaling aspect of its VNFD when its counters' rate leaves
    the band, automatically (isAutomaticInvocation), within the levels and the cool-down. The
    body (AutoScaleRuleCreate) is read once the NS is known to be the caller's."""
    instances.get_row(session, caller, ns_instance_id)  # another tenant's: 404 before 400
    try:
        asked = AutoScaleRuleCreate.model_validate(body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False), body=body) from exc
    rule = autoscale_rules.add(session, caller, nsds, ns_instance_id, asked.spec())
    return AutoScaleRulePublic.of(rule)


@router.get("/ns-instances/{nsInstanceId}/autoscale-rules", operation_id="listAutoScaleRules")
def list_rules(
    ns_instance_id: NsInstanceId, session: SessionDep, caller: CallerDep
) -> list[AutoScaleRulePublic]:
    rules = autoscale_rules.list_rules(session, caller, ns_instance_id)
    return [AutoScaleRulePublic.of(rule) for rule in rules]


@router.get("/autoscale-rules/{autoscaleRuleId}", operation_id="readAutoScaleRule")
def read_rule(rule_id: RuleId, session: SessionDep, caller: CallerDep) -> AutoScaleRulePublic:
    """The rule with its last decision (also when it held: cool-down, at max level...)."""
    return AutoScaleRulePublic.of(autoscale_rules.read(session, caller, rule_id))


@router.delete("/autoscale-rules/{autoscaleRuleId}", status_code=204,
               operation_id="removeAutoScaleRule")  # fmt: skip
def remove_rule(rule_id: RuleId, session: SessionDep, caller: CallerDep) -> Response:
    autoscale_rules.remove(session, caller, rule_id)
    return Response(status_code=204)
