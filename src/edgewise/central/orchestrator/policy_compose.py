"""The real-time policy rules of one site, pure: the site's own rules first, in the order they
were added, then its tenant's (with `tenant` set), each kept only where the site's document has
every link and class it names. `orchestrator.sdwan` loads the inputs and writes the result into
the site's `policy_rules` section, beside the links and steering it checks against."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from edgewise.model.rtpolicy import MAX_POLICY_RULES, PolicyRule

SCOPES = ("site", "tenant")  # the order a site's rules come in


@dataclass(frozen=True)
class LeftOutRule:
    """A rule that does not reach the site's document, and why."""

    scope: str
    name: str
    reason: str


@dataclass(frozen=True)
class SitePolicy:
    rules: tuple[PolicyRule, ...]
    left_out: tuple[LeftOutRule, ...]


def compose_policy(
    *,
    tenant_id: str,
    site_rules: Sequence[PolicyRule],
    tenant_rules: Sequence[PolicyRule],
    links: Collection[str],
    classes: Collection[str],
) -> SitePolicy:
    """The site's rules: its own, then its tenant's; a tenant rule named as one of the site's
    is left out (the site's wins), so is a rule naming a link the site lacks or a class its
    steering does not carry, and any beyond MAX_POLICY_RULES."""
    kept: list[PolicyRule] = []
    left_out: list[LeftOutRule] = []
    names: set[str] = set()
    have = {"link": set(links), "class": set(classes)}
    for scope, rules in (("site", site_rules), ("tenant", tenant_rules)):
        for rule in rules:
            missing = [f"{what} {name!r}" for _, what, name in rule.references()
                       if name not in have[what]]  # fmt: skip
            if rule.name in names:
                why = "the site has a rule of the same name"
            elif missing:
                why = "the site's document has no " + ", no ".join(missing)
            elif len(kept) >= MAX_POLICY_RULES:
                why = f"the site has {MAX_POLICY_RULES} rules already"
            else:
                names.add(rule.name)
                kept.append(replace(rule, tenant=tenant_id if scope == "tenant" else None))
                continue
            left_out.append(LeftOutRule(scope, rule.name, why))
    return SitePolicy(tuple(kept), tuple(left_out))
