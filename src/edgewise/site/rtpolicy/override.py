"""Steering's decision with real-time policy's overrides (pure): a class a steer rule holds goes
out of the rule's link while that link is usable, whatever its steering policy would choose;
when the override ends, steering decides again from there (its failback hold applies)."""

from __future__ import annotations

from collections.abc import Mapping

from edgewise.model.steering import Steering
from edgewise.site.sdwan.decide import Decision, Route, policy_key
from edgewise.site.sdwan.health import DOWN, LinkHealth


def overridden(
    decision: Decision,
    steering: Steering,
    overrides: Mapping[str, str],
    health: Mapping[str, LinkHealth],
    now: float,
) -> Decision:
    """`decision` with each overridden class's policies on the override's link (if usable)."""
    if not overrides:
        return decision
    routes = dict(decision.routes)
    for policy in steering.policies:
        link = overrides.get(policy.class_name)
        if link is None or not health.get(link, DOWN).usable:
            continue
        key = policy_key(policy)
        seen = routes.get(key)
        if seen is not None and seen.links == (link,):
            continue
        routes[key] = Route((link,), now, left=seen.left if seen is not None else frozenset())
    return Decision(routes)
