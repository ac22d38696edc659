"""Which links each steering policy's traffic takes now (pure, the clock is a number given).

For each policy: the first link of its list that is up and keeps its SLA profile (with
`spread`: all such links), else the first usable link of its list, else the first usable link
of the site; default traffic takes the first usable link of `default_links` (or of the site's
links). A move to a worse choice (its link died, or broke the SLA while a compliant one is
there) happens at once; so does a move to a better link the route never left (one that came
up late); a move back to a link it left (failback) only once that choice has been the best for
`steering.hold_s` seconds, and never sooner than `hold_s` after the last move.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from edgewise.model.steering import SlaProfile, Steering, SteeringPolicy
from edgewise.site.sdwan.health import DOWN, LinkHealth

DEFAULT = "@default"  # the key of traffic no policy takes
COMPLIANT, USABLE, NOWHERE = 0, 1, 2  # how good a choice is (lower is better)
HealthOf = Callable[[str], LinkHealth]


def policy_key(policy: SteeringPolicy) -> str:
    """A policy's key in a Decision: its class, and `@tenant` when it has one."""
    return policy.class_name if policy.tenant is None else f"{policy.class_name}@{policy.tenant}"


@dataclass(frozen=True)
class Route:
    """Where one policy's traffic goes: `links` (several when spread; none: it falls to the
    default), taken at `since`; `better`, seen best without a break since `better_since`;
    `left`, the links it failed over from (going back to one waits the hold time)."""

    links: tuple[str, ...]
    since: float
    better: tuple[str, ...] | None = None
    better_since: float = 0.0
    left: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    routes: Mapping[str, Route] = field(default_factory=dict)

    def links(self, key: str) -> tuple[str, ...]:
        route = self.routes.get(key)
        return route.links if route is not None else ()

    def due(self, hold_s: float) -> float | None:
        """When a pending failback may happen (decide again then); None when none is pending."""
        times = [max(r.better_since, r.since) + hold_s for r in self.routes.values() if r.better]
        return min(times, default=None)


@dataclass(frozen=True)
class Wanted:
    """What one key would take now, and how good that is."""

    links: tuple[str, ...]
    rank: int


def decide(
    steering: Steering,
    links: Sequence[str],
    health: Mapping[str, LinkHealth],
    previous: Decision | None,
    now: float,
) -> Decision:
    """The routes of every policy and of default traffic at time `now` (seconds).

    `links` are the site's link names in order; a link missing from `health` is down.
    """
    routes: dict[str, Route] = {}
    site = tuple(links)

    def of(name: str) -> LinkHealth:
        return health.get(name, DOWN)

    for policy in steering.policies:
        profile = steering.profile(policy.sla)
        wanted = best(policy.links, profile, site, of, spread=policy.spread)
        seen = previous.routes.get(policy_key(policy)) if previous is not None else None
        current = None if seen is None else rank(seen.links, profile, of)
        routes[policy_key(policy)] = follow(seen, current, wanted, steering.hold_s, now)
    defaults = steering.default_links or site
    wanted = best(defaults, None, site, of, spread=False)
    seen = previous.routes.get(DEFAULT) if previous is not None else None
    current = None if seen is None else rank(seen.links, None, of)
    routes[DEFAULT] = follow(seen, current, wanted, steering.hold_s, now)
    return Decision(routes)


def best(
    order: Sequence[str],
    profile: SlaProfile | None,
    site: Sequence[str],
    of: HealthOf,
    *,
    spread: bool,
) -> Wanted:
    compliant = tuple(name for name in order if of(name).keeps(profile))
    if compliant:
        return Wanted(compliant if spread else compliant[:1], COMPLIANT)
    usable = next((n for n in (*order, *site) if of(n).usable), None)
    return Wanted((usable,), USABLE) if usable is not None else Wanted((), NOWHERE)


def rank(links: Sequence[str], profile: SlaProfile | None, of: HealthOf) -> int:
    """How good the links a route has are now."""
    if not links or not all(of(name).usable for name in links):
        return NOWHERE
    return COMPLIANT if all(of(name).keeps(profile) for name in links) else USABLE


def follow(
    seen: Route | None, current: int | None, wanted: Wanted, hold_s: float, now: float
) -> Route:
    """The route after `seen` (ranked `current` now) given what is best now."""
    if seen is None or current is None:
        return Route(wanted.links, now)
    if current > wanted.rank:  # the current choice got worse: fail over at once
        left = seen.left | (set(seen.links) - set(wanted.links))
        return Route(wanted.links, now, left=frozenset(left))
    if seen.links == wanted.links:
        return Route(seen.links, seen.since, left=seen.left)
    if not set(wanted.links) & seen.left:  # better, and never left: no failback to hold
        return Route(wanted.links, now, left=seen.left)
    better_since = seen.better_since if seen.better == wanted.links else now
    if now - better_since >= hold_s and now - seen.since >= hold_s:
        return Route(wanted.links, now, left=seen.left)
    return Route(seen.links, seen.since, wanted.links, better_since, seen.left)
