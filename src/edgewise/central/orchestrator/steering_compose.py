"""The effective steering of one site, pure: from the operator's classes, SLA profiles and
policies (fleet-wide and for the site), the tenant's preferences within its bounds, and the site's
links. `orchestrator.sdwan` loads the inputs and writes the result into the site's document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edgewise.model.steering import AppClass, SlaProfile, Steering, SteeringPolicy

SCOPES = ("tenant", "site", "fleet")  # the order a site's policies are tried in


@dataclass(frozen=True)
class Policy:
    """A stored policy for `class_name` at `scope` (fleet, site, tenant)."""

    scope: str
    class_name: str
    links: tuple[str, ...]
    sla: str | None = None
    spread: bool = False


@dataclass(frozen=True)
class Bound:
    """What the tenant may prefer for a class: links it may use, whether it may set the SLA."""

    links: tuple[str, ...]
    may_change_sla: bool = False


@dataclass(frozen=True)
class LeftOut:
    """A policy that does not reach the site's document, and why."""

    scope: str
    class_name: str
    reason: str


@dataclass(frozen=True)
class SiteSteering:
    steering: Steering | None  # None: nothing to steer at this site
    left_out: tuple[LeftOut, ...]


@dataclass(frozen=True)
class Catalogue:
    """The operator's classes and SLA profiles by name."""

    classes: Mapping[str, AppClass]
    profiles: Mapping[str, SlaProfile]


def compose_steering(
    *,
    tenant_id: str,
    links: Sequence[str],
    policies: Sequence[Policy],
    bounds: Mapping[str, Bound],
    catalogue: Catalogue,
) -> SiteSteering:
    """The site's steering: policies tenant first (with `tenant` set), then the site's, then
    the fleet's (a site policy overrides the fleet's for its class); each keeps only links the
    site has, a tenant's only links its bound allows; a policy left without links is left out.
    Only the classes and profiles the policies use are carried."""
    by_scope = {scope: [p for p in policies if p.scope == scope] for scope in SCOPES}
    operator = {p.class_name: p for p in by_scope["fleet"]} | {
        p.class_name: p for p in by_scope["site"]
    }
    overridden = {p.class_name for p in by_scope["site"]}
    have = set(links)
    kept: list[SteeringPolicy] = []
    left_out: list[LeftOut] = []
    for scope in SCOPES:
        for policy in sorted(by_scope[scope], key=lambda p: p.class_name):
            if scope == "fleet" and policy.class_name in overridden:
                continue
            chosen, why = _effective(policy, tenant_id, bounds, operator, catalogue)
            if chosen is None:
                left_out.append(LeftOut(scope, policy.class_name, why))
                continue
            usable = tuple(name for name in chosen.links if name in have)
            if not usable:
                named = ", ".join(chosen.links)
                why = f"none of its links ({named}) is a link of this site"
                left_out.append(LeftOut(scope, policy.class_name, why))
                continue
            kept.append(
                SteeringPolicy(chosen.class_name, usable, chosen.sla, chosen.spread, chosen.tenant)
            )
    if not kept:
        return SiteSteering(None, tuple(left_out))
    used = sorted({p.class_name for p in kept})
    profiles = sorted({p.sla for p in kept if p.sla is not None})
    steering = Steering(
        classes=tuple(catalogue.classes[name] for name in used),
        sla_profiles=tuple(catalogue.profiles[name] for name in profiles),
        policies=tuple(kept),
    )
    return SiteSteering(steering, tuple(left_out))


def _effective(
    policy: Policy,
    tenant_id: str,
    bounds: Mapping[str, Bound],
    operator: Mapping[str, Policy],
    catalogue: Catalogue,
) -> tuple[SteeringPolicy | None, str]:
    if policy.class_name not in catalogue.classes:
        return None, f"class {policy.class_name!r} does not exist"
    if policy.sla is not None and policy.sla not in catalogue.profiles:
        return None, f"SLA profile {policy.sla!r} does not exist"
    if policy.scope != "tenant":
        return SteeringPolicy(policy.class_name, policy.links, policy.sla, policy.spread), ""
    bound = bounds.get(policy.class_name)
    if bound is None:
        return None, f"the tenant has no bound for class {policy.class_name!r}"
    links = tuple(name for name in policy.links if name in bound.links)
    if not links:
        return None, "none of its links is within the tenant's bound (" + ", ".join(
            bound.links
        ) + ")"
    fallback = operator.get(policy.class_name)
    sla = policy.sla if bound.may_change_sla and policy.sla is not None else None
    if sla is None and fallback is not None:
        sla = fallback.sla if fallback.sla in catalogue.profiles else None
    return SteeringPolicy(policy.class_name, links, sla, policy.spread, tenant_id), ""
