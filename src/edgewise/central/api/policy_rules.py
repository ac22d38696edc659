"""Native API: real-time policy rules (docs/realtime-policy.md) of a site
(`/api/v1/sites/{siteId}/policy-rules`) and of a tenant (`/api/v1/tenants/{tenantId}/policy-
rules`, for every site of the tenant), and the rules a site's document carries
(`/api/v1/sites/{siteId}/policy`). A rule is the contract's (model.rtpolicy); routes call
`orchestrator.policy`."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from edgewise.central.api.deps import CallerDep, SessionDep
from edgewise.central.api.schemas import Moment, Schema
from edgewise.central.orchestrator import policy
from edgewise.model.fields import write

router = APIRouter(prefix="/api/v1", tags=["real-time policy"])
ContractObject = dict[str, Any]  # a rule as the contract has it: edgewise.model reads it


class PolicyRulePublic(Schema):
    id: str
    scope: Literal["site", "tenant"]
    owner_id: str = Field(description="the site's or the tenant's id")
    name: str
    spec: ContractObject = Field(description="the rule: name, when, then, hold_s (the contract's)")
    created_at: Moment | None

    @classmethod
    def of(cls, found: policy.Rule) -> PolicyRulePublic:
        return cls.model_validate(found)


class LeftOutRulePublic(Schema):
    scope: Literal["site", "tenant"]
    name: str
    reason: str


class SitePolicyPublic(Schema):
    """The rules the site's document carries (its own, then its tenant's), and those left
    out there and why."""

    site_id: str
    rules: list[ContractObject]
    left_out: list[LeftOutRulePublic]


@router.get("/sites/{siteId}/policy-rules", operation_id="listSitePolicyRules")
def list_site_rules(siteId: str, session: SessionDep, caller: CallerDep) -> list[PolicyRulePublic]:
    return [PolicyRulePublic.of(r) for r in policy.list_rules(session, caller, "site", siteId)]


@router.post("/sites/{siteId}/policy-rules", status_code=201, operation_id="addSitePolicyRule")
def add_site_rule(
    siteId: str, body: dict[str, Any], session: SessionDep, caller: CallerDep
) -> PolicyRulePublic:
    """Adds a rule (the contract's: name, when, then, hold_s); the site gets a new revision."""
    return PolicyRulePublic.of(policy.add_rule(session, caller, "site", siteId, body))


@router.get("/sites/{siteId}/policy-rules/{name}", operation_id="readSitePolicyRule")
def read_site_rule(
    siteId: str, name: str, session: SessionDep, caller: CallerDep
) -> PolicyRulePublic:
    return PolicyRulePublic.of(policy.read_rule(session, caller, "site", siteId, name))


@router.delete(
    "/sites/{siteId}/policy-rules/{name}", status_code=204, operation_id="removeSitePolicyRule"
)
def remove_site_rule(siteId: str, name: str, session: SessionDep, caller: CallerDep) -> Response:
    policy.remove_rule(session, caller, "site", siteId, name)
    return Response(status_code=204)


@router.get("/tenants/{tenantId}/policy-rules", operation_id="listTenantPolicyRules")
def list_tenant_rules(
    tenantId: str, session: SessionDep, caller: CallerDep
) -> list[PolicyRulePublic]:
    return [PolicyRulePublic.of(r) for r in policy.list_rules(session, caller, "tenant", tenantId)]


@router.post(
    "/tenants/{tenantId}/policy-rules", status_code=201, operation_id="addTenantPolicyRule"
)
def add_tenant_rule(
    tenantId: str, body: dict[str, Any], session: SessionDep, caller: CallerDep
) -> PolicyRulePublic:
    """Adds a rule for every site of the tenant (after each site's own rules); the sites
    whose document changes get a new revision."""
    return PolicyRulePublic.of(policy.add_rule(session, caller, "tenant", tenantId, body))


@router.get("/tenants/{tenantId}/policy-rules/{name}", operation_id="readTenantPolicyRule")
def read_tenant_rule(
    tenantId: str, name: str, session: SessionDep, caller: CallerDep
) -> PolicyRulePublic:
    return PolicyRulePublic.of(policy.read_rule(session, caller, "tenant", tenantId, name))


@router.delete(
    "/tenants/{tenantId}/policy-rules/{name}",
    status_code=204,
    operation_id="removeTenantPolicyRule",
)
def remove_tenant_rule(
    tenantId: str, name: str, session: SessionDep, caller: CallerDep
) -> Response:
    policy.remove_rule(session, caller, "tenant", tenantId, name)
    return Response(status_code=204)


@router.get("/sites/{siteId}/policy", operation_id="readSitePolicy")
def read_site_policy(siteId: str, session: SessionDep, caller: CallerDep) -> SitePolicyPublic:
    """The rules the site's document carries, and each rule left out there and why."""
    found = policy.site_policy(session, caller, siteId)
    return SitePolicyPublic(
        site_id=siteId,
        rules=[write(rule) for rule in found.rules],
        left_out=[LeftOutRulePublic.model_validate(x) for x in found.left_out],
    )
