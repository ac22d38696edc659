"""Placement: which sites an NS instance goes to, and why every other candidate does not (pure).

A request names sites explicitly or gives criteria — a label selector, a site kind, a minimum
of free VNF slots left after placing — with a strategy and, optionally, how many sites:

- `least-occupied`: the sites with the smallest share of their slots in use first;
- `pack`: the fullest sites that still fit first (keeps whole sites free);
- `spread`: round robin over the values of one label (`spread_by`, default `region`), least
  occupied first within each value — so N sites land in as many regions as there are.

Every candidate not chosen gets one reason, the first that applies, in this order: tenant,
name not asked for, presence (offline or never enrolled: a change there would wait for
nothing), kind, labels, not enough free slots, below the free-slot minimum, and (only when
`count` is given) not among the first `count` by the strategy. An NS that belongs to no tenant
(the provider's) goes to one tenant's sites only: one NS instance never spans tenants.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from edgewise.model.sites import LabelSelector, Presence, SiteKind, absence


class Strategy(StrEnum):
    LEAST_OCCUPIED = "least-occupied"
    PACK = "pack"
    SPREAD = "spread"


@dataclass(frozen=True)
class Candidate:
    """A site as placement sees it: who owns it, what it is, its slots and how many are used."""

    id: str
    name: str
    tenant_id: str
    kind: SiteKind
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    slots: int = 2
    used: int = 0
    presence: Presence = Presence.ONLINE
    last_contact: datetime | None = None

    @property
    def free(self) -> int:
        return self.slots - self.used

    @property
    def occupancy(self) -> float:
        return self.used / self.slots if self.slots else 1.0


@dataclass(frozen=True)
class Request:
    """What the NS needs per site (`slots`: its VNFs) and where it may go."""

    slots: int
    sites: tuple[str, ...] = ()
    tenant_id: str | None = None
    selector: LabelSelector | None = None
    kind: SiteKind | None = None
    min_free_slots: int = 0
    strategy: Strategy = Strategy.LEAST_OCCUPIED
    count: int | None = None
    spread_by: str = "region"
    exclude: frozenset[str] = frozenset()  # site ids that already run the NS
    one_tenant: bool = False  # the NS is the provider's: all its sites of one tenant

    @property
    def explicit(self) -> bool:
        return bool(self.sites)


@dataclass(frozen=True)
class Rejection:
    site_id: str
    site_name: str
    reason: str


@dataclass(frozen=True)
class Placement:
    chosen: tuple[Candidate, ...]
    rejected: tuple[Rejection, ...]
    missing: tuple[str, ...] = ()  # explicitly named sites that are no candidate at all
    shortfall: int = 0  # sites short of the `count` asked for

    def refusal(self, request: Request) -> list[str]:
        """Why this placement cannot be used, one line each; empty when it can.

        Named sites must all be chosen (none over-subscribed); criteria must find at least one
        site, and `count` of them when a count was asked.
        """
        lines = [f"{ref}: no such site" for ref in self.missing]
        if request.explicit:
            named = set(request.sites)
            lines += [
                f"{r.site_name}: {r.reason}"
                for r in self.rejected
                if r.site_id in named or r.site_name in named
            ]
        elif not self.chosen:
            lines.append("no site meets the criteria")
        tenants = sorted({c.tenant_id for c in self.chosen})
        if request.one_tenant and len(tenants) > 1:
            lines.append(
                "a provider-owned NS instance runs on one tenant's sites, and these belong to "
                f"{len(tenants)} tenants ({', '.join(tenants[:5])}): narrow the sites or "
                "create the NS instance for a tenant"
            )
        if self.shortfall:
            lines.append(
                f"only {len(self.chosen)} site(s) meet the criteria; {request.count} were asked"
            )
        return lines


def place(request: Request, candidates: Iterable[Candidate]) -> Placement:
    """Chooses sites for `request` among `candidates`; deterministic for equal inputs."""
    eligible: list[Candidate] = []
    rejected: list[Rejection] = []
    named = set(request.sites)
    seen: set[str] = set()
    for site in sorted(candidates, key=lambda c: (c.name, c.id)):
        if named and (site.id in named or site.name in named):
            seen.update({site.id, site.name})
        reason = _reason(request, site)
        if reason is None:
            eligible.append(site)
        else:
            rejected.append(Rejection(site.id, site.name, reason))
    ordered = _order(request, eligible)
    chosen = ordered if request.count is None else ordered[: request.count]
    beyond = f"not among the first {request.count} by {request.strategy.value}"
    rejected.extend(Rejection(site.id, site.name, beyond) for site in ordered[len(chosen) :])
    missing = tuple(ref for ref in request.sites if ref not in seen)
    shortfall = max(0, (request.count or 0) - len(chosen))
    rejected.sort(key=lambda r: (r.site_name, r.site_id))
    return Placement(tuple(chosen), tuple(rejected), missing, shortfall)


def _reason(request: Request, site: Candidate) -> str | None:
    if site.id in request.exclude:
        return "already runs this NS instance"
    if request.tenant_id is not None and site.tenant_id != request.tenant_id:
        return "belongs to another tenant"
    if request.explicit and site.id not in request.sites and site.name not in request.sites:
        return "not named in the request"
    why_absent = absence(site.presence, site.last_contact)
    if why_absent is not None:
        return why_absent
    if request.kind is not None and site.kind is not request.kind:
        return f"is {site.kind.value}, the request wants {request.kind.value}"
    if request.selector is not None and not request.selector.matches(dict(site.labels)):
        wanted = ",".join(f"{k}={v}" for k, v in request.selector.required.items())
        have = ",".join(
            f"{k}={site.labels[k]}" for k in request.selector.required if k in site.labels
        )
        return f"labels do not match {wanted} (has {have or 'none of them'})"
    if site.free < request.slots:
        return f"{site.free} of {site.slots} VNF slots free; the NS needs {request.slots}"
    if site.free - request.slots < request.min_free_slots:
        return (
            f"would keep {site.free - request.slots} VNF slots free; the request wants at least "
            f"{request.min_free_slots}"
        )
    return None


def _order(request: Request, sites: Sequence[Candidate]) -> list[Candidate]:
    if request.strategy is Strategy.PACK:
        return sorted(sites, key=lambda s: (s.free - request.slots, s.name, s.id))
    least = sorted(sites, key=lambda s: (s.occupancy, -s.free, s.name, s.id))
    if request.strategy is Strategy.LEAST_OCCUPIED:
        return least
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for site in least:
        groups[site.labels.get(request.spread_by, "")].append(site)
    ordered: list[Candidate] = []
    queues = [groups[key] for key in sorted(groups)]
    while any(queues):
        ordered.extend(queue.pop(0) for queue in queues if queue)
    return ordered
