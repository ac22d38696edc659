"""Steering policies (a class -> ordered link names, an SLA profile, spread) fleet-wide, per site
and per tenant, and the bounds an operator sets on each tenant's preferences. A policy's fields
are read by the contract (`model.steering.SteeringPolicy`); a tenant's preference outside its
bounds is refused naming the link or the SLA and the bound. Every change recomposes the
documents of the sites it reaches (`sdwan.recompose`, only the changed ones written)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import sdwan
from edgewise.central.orchestrator.steering_catalogue import APP_CLASSES, SLA_PROFILES, exists
from edgewise.central.services.access import Principal, require_admin
from edgewise.central.services.errors import (
    Conflict,
    Forbidden,
    InputProblem,
    NotFound,
    Unprocessable,
)
from edgewise.central.services.sites import get_site
from edgewise.central.services.tenants import get_tenant
from edgewise.central.store.sdwan_tables import SiteLinkRow, SteeringBoundRow, SteeringPolicyRow
from edgewise.central.store.tables import SiteRow
from edgewise.model.desired import DocumentError
from edgewise.model.fields import read
from edgewise.model.steering import SteeringPolicy


@dataclass(frozen=True)
class PolicySpec:
    """What a caller asks for: the scope (fleet, site, tenant), whose, and the policy."""

    scope: str
    site_id: str | None
    tenant_id: str | None
    class_name: str
    links: tuple[str, ...]
    sla: str | None = None
    spread: bool = False


@dataclass(frozen=True)
class Policy:
    id: str
    scope: str
    site_id: str | None
    tenant_id: str | None
    class_name: str
    links: tuple[str, ...]
    sla: str | None
    spread: bool

    @classmethod
    def of(cls, row: SteeringPolicyRow) -> Policy:
        return cls(
            row.id,
            row.scope,
            row.site_id,
            row.tenant_id,
            row.class_name,
            tuple(row.links),
            row.sla,
            row.spread,
        )


@dataclass(frozen=True)
class BoundSpec:
    class_name: str
    links: tuple[str, ...]
    may_change_sla: bool = False


def list_policies(session: Session, principal: Principal) -> list[Policy]:
    """An operator sees every policy; a tenant the fleet's, its sites' and its own."""
    query = select(SteeringPolicyRow).order_by(
        SteeringPolicyRow.scope_key, SteeringPolicyRow.class_name
    )
    if not principal.is_admin:
        own_sites = select(SiteRow.id).where(SiteRow.tenant_id == principal.tenant_id)
        query = query.where(
            or_(
                SteeringPolicyRow.scope == "fleet",
                SteeringPolicyRow.tenant_id == principal.tenant_id,
                SteeringPolicyRow.site_id.in_(own_sites),
            )
        )
    return [Policy.of(row) for row in session.scalars(query)]


def read_policy(session: Session, principal: Principal, policy_id: str) -> Policy:
    return Policy.of(_visible(session, principal, policy_id))


def create_policy(session: Session, principal: Principal, spec: PolicySpec) -> Policy:
    scope_key, site_id, tenant_id = _scope(session, principal, spec)
    _check(session, spec, site_id, tenant_id)
    taken = session.scalar(
        select(SteeringPolicyRow.id).where(
            SteeringPolicyRow.scope_key == scope_key,
            SteeringPolicyRow.class_name == spec.class_name,
        )
    )
    if taken is not None:
        raise Conflict(
            f"policy {taken} already steers class {spec.class_name!r} at this "
            "scope; change it instead"
        )
    row = SteeringPolicyRow(
        scope=spec.scope,
        scope_key=scope_key,
        site_id=site_id,
        tenant_id=tenant_id,
        class_name=spec.class_name,
        links=list(spec.links),
        sla=spec.sla,
        spread=spec.spread,
    )
    session.add(row)
    session.flush()
    _recompose(session, row)
    return Policy.of(row)


def update_policy(
    session: Session,
    principal: Principal,
    policy_id: str,
    *,
    links: Sequence[str] | None,
    sla: str | None,
    clear_sla: bool,
    spread: bool | None,
) -> Policy:
    row = _visible(session, principal, policy_id)
    _ensure_writable(principal, row)
    spec = PolicySpec(
        row.scope,
        row.site_id,
        row.tenant_id,
        row.class_name,
        tuple(links) if links is not None else tuple(row.links),
        None if clear_sla else sla if sla is not None else row.sla,
        row.spread if spread is None else spread,
    )
    _check(session, spec, row.site_id, row.tenant_id)
    row.links, row.sla, row.spread = list(spec.links), spec.sla, spec.spread
    session.flush()
    _recompose(session, row)
    return Policy.of(row)


def delete_policy(session: Session, principal: Principal, policy_id: str) -> None:
    row = _visible(session, principal, policy_id)
    _ensure_writable(principal, row)
    session.delete(row)
    session.flush()
    _recompose(session, row)


def read_bounds(session: Session, principal: Principal, tenant_id: str) -> list[BoundSpec]:
    get_tenant(session, principal, tenant_id)
    rows = session.scalars(
        select(SteeringBoundRow)
        .where(SteeringBoundRow.tenant_id == tenant_id)
        .order_by(SteeringBoundRow.class_name)
    )
    return [BoundSpec(r.class_name, tuple(r.links), r.may_change_sla) for r in rows]


def set_bounds(
    session: Session, principal: Principal, tenant_id: str, bounds: Sequence[BoundSpec]
) -> list[BoundSpec]:
    """Replaces the tenant's bounds (operators); the tenant's preferences outside the new
    bounds stay stored and reach no site (each site's view says why)."""
    require_admin(principal, "set a tenant's steering bounds")
    get_tenant(session, principal, tenant_id)
    problems = []
    known = exists(session, APP_CLASSES, [b.class_name for b in bounds])
    seen: set[str] = set()
    for index, bound in enumerate(bounds):
        if bound.class_name not in known:
            problems.append(
                InputProblem(f"[{index}].class", f"class {bound.class_name!r} does not exist")
            )
        if bound.class_name in seen:
            problems.append(InputProblem(f"[{index}].class", "given twice"))
        seen.add(bound.class_name)
        problems += _link_problems(bound.links, f"[{index}].links")
    if problems:
        raise Unprocessable("the steering bounds are not valid", problems)
    for row in session.scalars(
        select(SteeringBoundRow).where(SteeringBoundRow.tenant_id == tenant_id)
    ):
        session.delete(row)
    session.flush()
    session.add_all(
        SteeringBoundRow(
            tenant_id=tenant_id,
            class_name=b.class_name,
            links=list(b.links),
            may_change_sla=b.may_change_sla,
        )
        for b in bounds
    )
    session.flush()
    sdwan.recompose(session, sdwan.sites_with_links(session, tenant_id))
    return read_bounds(session, principal, tenant_id)


def _scope(
    session: Session, principal: Principal, spec: PolicySpec
) -> tuple[str, str | None, str | None]:
    """The policy's scope key, site and tenant; who may set a policy at that scope."""
    if spec.scope == "tenant":
        tenant = spec.tenant_id or principal.tenant_id
        if tenant is None:
            raise Unprocessable(
                "a tenant's preference names its tenant", [InputProblem("tenantId", "missing")]
            )
        if not principal.is_admin and tenant != principal.tenant_id:
            raise Forbidden("a tenant sets its own preferences only")
        get_tenant(session, principal, tenant)
        return f"tenant:{tenant}", None, tenant
    require_admin(principal, f"set a {spec.scope} steering policy (tenants set scope tenant)")
    if spec.scope == "site":
        if spec.site_id is None:
            raise Unprocessable("a site policy names its site", [InputProblem("siteId", "missing")])
        get_site(session, principal, spec.site_id)
        return f"site:{spec.site_id}", spec.site_id, None
    return "fleet", None, None


def _check(session: Session, spec: PolicySpec, site_id: str | None, tenant_id: str | None) -> None:
    """The policy read by the contract, its class and SLA profile existing, a site policy's
    links the site's, a tenant's within its bounds (403 naming the link and the bound)."""
    problems = _link_problems(spec.links, "links", spec.class_name, spec.sla, spec.spread)
    if not exists(session, APP_CLASSES, [spec.class_name]):
        problems.append(InputProblem("class", f"class {spec.class_name!r} does not exist"))
    if spec.sla is not None and not exists(session, SLA_PROFILES, [spec.sla]):
        problems.append(InputProblem("sla", f"SLA profile {spec.sla!r} does not exist"))
    if site_id is not None:
        have = set(session.scalars(select(SiteLinkRow.name).where(SiteLinkRow.site_id == site_id)))
        problems += [
            InputProblem(f"links[{i}]", f"{name!r} is not a link of site {site_id}")
            for i, name in enumerate(spec.links)
            if name not in have
        ]
    if problems:
        raise Unprocessable("the steering policy is not valid", problems)
    if tenant_id is not None:
        _within_bounds(session, spec, tenant_id)


def _within_bounds(session: Session, spec: PolicySpec, tenant_id: str) -> None:
    bound = session.get(SteeringBoundRow, (tenant_id, spec.class_name))
    if bound is None:
        raise Forbidden(
            f"class: the operator set no bound for tenant {tenant_id} on class "
            f"{spec.class_name!r}, so it has no preference to set there"
        )
    outside = [(i, n) for i, n in enumerate(spec.links) if n not in bound.links]
    if outside:
        index, name = outside[0]
        raise Forbidden(
            f"links[{index}]: link {name!r} is outside the tenant's bound for class "
            f"{spec.class_name!r} (links " + ", ".join(bound.links) + ")"
        )
    if spec.sla is not None and not bound.may_change_sla:
        raise Forbidden(
            f"sla: the tenant's bound for class {spec.class_name!r} does not let "
            "it change the SLA profile"
        )


def _link_problems(
    links: Sequence[str],
    where: str,
    class_name: str = "x",
    sla: str | None = None,
    spread: bool = False,
) -> list[InputProblem]:
    """What the contract says of a policy with these fields (its links under `where`)."""
    body = {"class": class_name, "links": list(links), "spread": spread}
    if sla is not None:
        body["sla"] = sla
    try:
        read(SteeringPolicy, body)
    except DocumentError as exc:
        return [
            InputProblem(
                where + p.where[len("links") :] if p.where.startswith("links") else p.where,
                p.message,
            )
            for p in exc.problems
        ]
    return []


def _visible(session: Session, principal: Principal, policy_id: str) -> SteeringPolicyRow:
    row = session.get(SteeringPolicyRow, policy_id)
    if row is None or not _sees(session, principal, row):
        raise NotFound(f"steering policy {policy_id} does not exist")
    return row


def _sees(session: Session, principal: Principal, row: SteeringPolicyRow) -> bool:
    if principal.is_admin or row.scope == "fleet":
        return True
    if row.tenant_id is not None:
        return row.tenant_id == principal.tenant_id
    site = session.get(SiteRow, row.site_id)
    return site is not None and site.tenant_id == principal.tenant_id


def _ensure_writable(principal: Principal, row: SteeringPolicyRow) -> None:
    if principal.is_admin:
        return
    if row.tenant_id != principal.tenant_id:
        raise Forbidden(
            f"steering policy {row.id} is the operator's; a tenant changes its own preferences only"
        )


def _recompose(session: Session, row: SteeringPolicyRow) -> None:
    if row.scope == "site" and row.site_id is not None:
        sites = [row.site_id]
    elif row.scope == "tenant" and row.tenant_id is not None:
        sites = sdwan.sites_with_links(session, row.tenant_id)
    else:
        sites = sdwan.sites_with_links(session)
    sdwan.recompose(session, sites)
