"""Real-time policy rules (docs/realtime-policy.md) of a site and of a tenant: add, list, read,
remove. A rule's fields are read by the contract (`model.rtpolicy.PolicyRule`: 422 naming each
bad field); an operator sets any site's or tenant's rules, a tenant its own and its sites'. Every
change recomposes the documents of the sites it reaches (`sdwan.recompose`: a new revision
where the composed `policy_rules` section changes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import sdwan
from edgewise.central.orchestrator.policy_compose import SitePolicy
from edgewise.central.services.access import Principal, ensure_writable
from edgewise.central.services.errors import Conflict, InputProblem, NotFound, Unprocessable
from edgewise.central.services.sites import get_site
from edgewise.central.services.tenants import get_tenant
from edgewise.central.store.policy_tables import PolicyRuleRow
from edgewise.central.store.tables import SiteRow, aware_or_none
from edgewise.model.desired import DocumentError
from edgewise.model.fields import read, write
from edgewise.model.rtpolicy import MAX_POLICY_RULES, PolicyRule


@dataclass(frozen=True)
class Rule:
    """A stored rule: whose (a site's or a tenant's) and its contract document."""

    id: str
    scope: str
    owner_id: str
    name: str
    spec: dict[str, Any]
    created_at: datetime | None

    @classmethod
    def of(cls, row: PolicyRuleRow) -> Rule:
        owner = row.site_id if row.scope == "site" else row.tenant_id
        assert owner is not None
        return cls(row.id, row.scope, owner, row.name, dict(row.spec),
                   aware_or_none(row.created_at))  # fmt: skip


def contract_rule(body: object) -> PolicyRule:
    """`body` read as a PolicyRule; Unprocessable naming every bad field as the contract does
    (`tenant` is the central's to set, refused in a body)."""
    if isinstance(body, dict) and "tenant" in body:
        raise Unprocessable(
            "the rule is not valid",
            [InputProblem("tenant", "set by the central on a tenant's rules; leave it out")],
        )
    try:
        return read(PolicyRule, body)
    except DocumentError as exc:
        raise Unprocessable(
            "the rule is not valid", [InputProblem(p.where, p.message) for p in exc.problems]
        ) from exc


def _owner(
    session: Session, principal: Principal, scope: str, owner_id: str, *, write: bool
) -> tuple[str, str | None, str | None]:
    """The scope key, site and tenant of `owner_id`'s rules, once `principal` may see them
    (and change them, with `write`): 404 for a site or tenant it does not see."""
    if scope == "site":
        site = get_site(session, principal, owner_id)
        if write:
            ensure_writable(principal, site, what="site")
        return f"site:{owner_id}", owner_id, None
    tenant = get_tenant(session, principal, owner_id)
    if write:
        ensure_writable(principal, tenant, what="tenant")
    return f"tenant:{owner_id}", None, owner_id


def list_rules(session: Session, principal: Principal, scope: str, owner_id: str) -> list[Rule]:
    key, _, _ = _owner(session, principal, scope, owner_id, write=False)
    return [Rule.of(row) for row in _rows(session, key)]


def read_rule(session: Session, principal: Principal, scope: str, owner_id: str, name: str) -> Rule:
    key, _, _ = _owner(session, principal, scope, owner_id, write=False)
    return Rule.of(_row(session, key, scope, owner_id, name))


def add_rule(
    session: Session, principal: Principal, scope: str, owner_id: str, body: object
) -> Rule:
    """Adds a rule after the owner's others; 409 when its name is taken there."""
    key, site_id, tenant_id = _owner(session, principal, scope, owner_id, write=True)
    rule = contract_rule(body)
    rows = _rows(session, key)
    if any(row.name == rule.name for row in rows):
        raise Conflict(f"the {scope}'s rules already have one named {rule.name!r}; remove it first")
    if len(rows) >= MAX_POLICY_RULES:
        raise Unprocessable(
            f"the {scope} has as many rules as a site may have",
            [InputProblem("name", f"at most {MAX_POLICY_RULES} rules")],
        )
    position = max((row.position for row in rows), default=-1) + 1
    row = PolicyRuleRow(scope=scope, scope_key=key, site_id=site_id, tenant_id=tenant_id,
                        name=rule.name, position=position, spec=write(rule))  # fmt: skip
    session.add(row)
    session.flush()
    _recompose(session, scope, owner_id)
    return Rule.of(row)


def remove_rule(
    session: Session, principal: Principal, scope: str, owner_id: str, name: str
) -> None:
    key, _, _ = _owner(session, principal, scope, owner_id, write=True)
    session.delete(_row(session, key, scope, owner_id, name))
    session.flush()
    _recompose(session, scope, owner_id)


def site_policy(session: Session, principal: Principal, site_id: str) -> SitePolicy:
    """The rules the site's document carries, and each rule left out there and why."""
    get_site(session, principal, site_id)
    return sdwan.compose_sites(session, [site_id])[site_id].policy


def _rows(session: Session, key: str) -> list[PolicyRuleRow]:
    query = select(PolicyRuleRow).where(PolicyRuleRow.scope_key == key)
    return list(session.scalars(query.order_by(PolicyRuleRow.position)))


def _row(session: Session, key: str, scope: str, owner_id: str, name: str) -> PolicyRuleRow:
    row = session.scalar(
        select(PolicyRuleRow).where(PolicyRuleRow.scope_key == key, PolicyRuleRow.name == name)
    )
    if row is None:
        raise NotFound(f"{scope} {owner_id} has no policy rule {name!r}")
    return row


def _recompose(session: Session, scope: str, owner_id: str) -> None:
    if scope == "site":
        sites = [owner_id]
    else:
        sites = list(session.scalars(select(SiteRow.id).where(SiteRow.tenant_id == owner_id)))
    sdwan.recompose(session, sites)
