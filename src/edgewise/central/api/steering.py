"""Native API: SLA profiles and application classes (operators'; everyone reads them), steering
policies at fleet, site and tenant scope, a tenant's bounds, and a site's effective steering.
Routes call `orchestrator.steering_catalogue` and `orchestrator.steering`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from edgewise.central.api.deps import CallerDep, SessionDep
from edgewise.central.api.sdwan_schemas import (
    ApplicationPublic,
    BoundItem,
    LeftOutPublic,
    NamedPublic,
    PolicyCreate,
    PolicyPublic,
    PolicyUpdate,
    SiteSteeringPublic,
)
from edgewise.central.orchestrator import sdwan, steering
from edgewise.central.orchestrator import steering_catalogue as catalogue
from edgewise.central.orchestrator.steering_catalogue import APP_CLASSES, SLA_PROFILES
from edgewise.central.services.sites import get_site
from edgewise.model.applications import CATALOGUE
from edgewise.model.fields import write

router = APIRouter(prefix="/api/v1", tags=["sd-wan"])


def _named(found: catalogue.Named) -> NamedPublic:
    return NamedPublic(name=found.name, spec=found.spec)


@router.get("/applications", operation_id="listApplications")
def list_applications(_caller: CallerDep) -> list[ApplicationPublic]:
    """The applications deep packet inspection identifies (the shipped catalogue)."""
    return [
        ApplicationPublic(name=a.name, app_id=a.app_id, category=a.category.value,
                          description=a.description)
        for a in CATALOGUE
    ]  # fmt: skip


@router.get("/sla-profiles", operation_id="listSlaProfiles")
def list_sla_profiles(session: SessionDep, _caller: CallerDep) -> list[NamedPublic]:
    return [_named(found) for found in catalogue.list_all(session, SLA_PROFILES)]


@router.post("/sla-profiles", status_code=201, operation_id="createSlaProfile")
def create_sla_profile(body: dict[str, Any], session: SessionDep, caller: CallerDep) -> NamedPublic:
    """An SLA profile (the contract's: name, max_latency_ms, max_loss_percent, max_jitter_ms)."""
    return _named(catalogue.create(session, caller, SLA_PROFILES, body))


@router.get("/sla-profiles/{profileName}", operation_id="readSlaProfile")
def read_sla_profile(profileName: str, session: SessionDep, _caller: CallerDep) -> NamedPublic:
    return _named(catalogue.get_one(session, SLA_PROFILES, profileName))


@router.patch("/sla-profiles/{profileName}", operation_id="updateSlaProfile")
def update_sla_profile(
    profileName: str, body: dict[str, Any], session: SessionDep, caller: CallerDep
) -> NamedPublic:
    """A JSON merge patch; the sites whose steering carries it get a new revision."""
    return _named(catalogue.update(session, caller, SLA_PROFILES, profileName, body))


@router.delete("/sla-profiles/{profileName}", status_code=204, operation_id="deleteSlaProfile")
def delete_sla_profile(profileName: str, session: SessionDep, caller: CallerDep) -> Response:
    """Deletes it; 409 naming the policies that use it."""
    catalogue.delete(session, caller, SLA_PROFILES, profileName)
    return Response(status_code=204)


@router.get("/app-classes", operation_id="listAppClasses")
def list_app_classes(session: SessionDep, _caller: CallerDep) -> list[NamedPublic]:
    return [_named(found) for found in catalogue.list_all(session, APP_CLASSES)]


@router.post("/app-classes", status_code=201, operation_id="createAppClass")
def create_app_class(body: dict[str, Any], session: SessionDep, caller: CallerDep) -> NamedPublic:
    """An application class (the contract's: name, protocol, ports, prefixes, dscp,
    applications, hosts)."""
    return _named(catalogue.create(session, caller, APP_CLASSES, body))


@router.get("/app-classes/{className}", operation_id="readAppClass")
def read_app_class(className: str, session: SessionDep, _caller: CallerDep) -> NamedPublic:
    return _named(catalogue.get_one(session, APP_CLASSES, className))


@router.patch("/app-classes/{className}", operation_id="updateAppClass")
def update_app_class(
    className: str, body: dict[str, Any], session: SessionDep, caller: CallerDep
) -> NamedPublic:
    """A JSON merge patch; the sites whose steering carries it get a new revision."""
    return _named(catalogue.update(session, caller, APP_CLASSES, className, body))


@router.delete("/app-classes/{className}", status_code=204, operation_id="deleteAppClass")
def delete_app_class(className: str, session: SessionDep, caller: CallerDep) -> Response:
    """Deletes it; 409 naming the policies and tenants' bounds that use it."""
    catalogue.delete(session, caller, APP_CLASSES, className)
    return Response(status_code=204)


@router.get("/steering-policies", operation_id="listSteeringPolicies")
def list_steering_policies(session: SessionDep, caller: CallerDep) -> list[PolicyPublic]:
    """An operator sees every policy; a tenant the fleet's, its sites' and its own."""
    return [PolicyPublic.model_validate(p) for p in steering.list_policies(session, caller)]


@router.post("/steering-policies", status_code=201, operation_id="createSteeringPolicy")
def create_steering_policy(
    body: PolicyCreate, session: SessionDep, caller: CallerDep
) -> PolicyPublic:
    """A policy at a scope; a tenant's (scope `tenant`) must stay within its bounds (403
    naming the link or the SLA, and the bound)."""
    spec = steering.PolicySpec(
        body.scope,
        body.site_id,
        body.tenant_id,
        body.class_name,
        tuple(body.links),
        body.sla,
        body.spread,
    )
    return PolicyPublic.model_validate(steering.create_policy(session, caller, spec))


@router.get("/steering-policies/{policyId}", operation_id="readSteeringPolicy")
def read_steering_policy(policyId: str, session: SessionDep, caller: CallerDep) -> PolicyPublic:
    return PolicyPublic.model_validate(steering.read_policy(session, caller, policyId))


@router.patch("/steering-policies/{policyId}", operation_id="updateSteeringPolicy")
def update_steering_policy(
    policyId: str, body: PolicyUpdate, session: SessionDep, caller: CallerDep
) -> PolicyPublic:
    found = steering.update_policy(
        session,
        caller,
        policyId,
        links=body.links,
        sla=body.sla,
        clear_sla="sla" in body.model_fields_set and body.sla is None,
        spread=body.spread,
    )
    return PolicyPublic.model_validate(found)


@router.delete(
    "/steering-policies/{policyId}", status_code=204, operation_id="deleteSteeringPolicy"
)
def delete_steering_policy(policyId: str, session: SessionDep, caller: CallerDep) -> Response:
    steering.delete_policy(session, caller, policyId)
    return Response(status_code=204)


@router.get("/tenants/{tenantId}/steering-bounds", operation_id="readSteeringBounds")
def read_steering_bounds(tenantId: str, session: SessionDep, caller: CallerDep) -> list[BoundItem]:
    return [BoundItem.model_validate(b) for b in steering.read_bounds(session, caller, tenantId)]


@router.put("/tenants/{tenantId}/steering-bounds", operation_id="setSteeringBounds")
def set_steering_bounds(
    tenantId: str, body: list[BoundItem], session: SessionDep, caller: CallerDep
) -> list[BoundItem]:
    """Replaces the tenant's bounds (operators): per class, the links its preferences may use
    and whether they may set the SLA profile."""
    bounds = [steering.BoundSpec(b.class_name, tuple(b.links), b.may_change_sla) for b in body]
    found = steering.set_bounds(session, caller, tenantId, bounds)
    return [BoundItem.model_validate(b) for b in found]


@router.get("/sites/{siteId}/steering", operation_id="readSiteSteering")
def read_site_steering(siteId: str, session: SessionDep, caller: CallerDep) -> SiteSteeringPublic:
    """The steering the site's document carries, and each policy left out there and why."""
    get_site(session, caller, siteId)
    found = sdwan.compose_sites(session, [siteId])[siteId].steering
    return SiteSteeringPublic(
        site_id=siteId,
        steering=None if found.steering is None else write(found.steering),
        left_out=[LeftOutPublic.model_validate(x) for x in found.left_out],
    )
