"""SLA_BROKEN's rule (for `alarms_reports`): which application classes a link, as its site
reports it, breaks the SLA of — the classes whose steering policy (in the site's desired state,
read with the contract's reader) names the link and an SLA profile the link does not keep."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.store.bulk import chunks
from edgewise.central.store.tables import DesiredStateRow
from edgewise.model.fields import read_into
from edgewise.model.problems import Problems
from edgewise.model.steering import SlaProfile, Steering


@dataclass(frozen=True)
class SiteSteering:
    """Per link, the (class, profile) pairs whose SLA the link must keep."""

    needs: Mapping[str, tuple[tuple[str, SlaProfile], ...]]


def steering_of(session: Session, site_ids: Sequence[str]) -> dict[str, SiteSteering]:
    """The SLA needs of these sites' desired steering (sites without any are left out)."""
    found: dict[str, SiteSteering] = {}
    for chunk in chunks(sorted(set(site_ids))):
        for site_id, document in session.execute(
            select(DesiredStateRow.site_id, DesiredStateRow.document).where(
                DesiredStateRow.site_id.in_(chunk)
            )
        ):
            section = document.get("steering") if isinstance(document, dict) else None
            steering = read_into(Steering, section, (), Problems()) if section else None
            if isinstance(steering, Steering):
                found[site_id] = needs_of(steering)
    return found


def needs_of(steering: Steering) -> SiteSteering:
    needs: dict[str, list[tuple[str, SlaProfile]]] = {}
    for policy in steering.policies:
        profile = steering.profile(policy.sla)
        if profile is None:
            continue
        for link in policy.links:
            pairs = needs.setdefault(link, [])
            if all(name != policy.class_name for name, _ in pairs):
                pairs.append((policy.class_name, profile))
    return SiteSteering({link: tuple(pairs) for link, pairs in needs.items()})


def broken(
    steering: SiteSteering | None, link: Mapping[str, Any]
) -> list[tuple[str, tuple[str, ...]]]:
    """(class, why) for each class whose SLA this reported link breaks: a link not up breaks
    them all; an up one breaks the limits its measured figures pass (unmeasured: kept). `why`
    names the limits, not the figures: an alarm changes when what is broken does."""
    if steering is None:
        return []
    name, state = str(link.get("name")), str(link.get("state"))
    found = []
    for app_class, profile in steering.needs.get(name, ()):
        why = _why(state, link, profile)
        if why:
            found.append((app_class, why))
    return found


def _why(state: str, link: Mapping[str, Any], profile: SlaProfile) -> tuple[str, ...]:
    if state != "up":
        return (f"link is {state}: SLA profile {profile.name} cannot be kept",)
    limits = (
        ("latency_ms", profile.max_latency_ms, "latency", "ms"),
        ("loss_percent", profile.max_loss_percent, "loss", "%"),
        ("jitter_ms", profile.max_jitter_ms, "jitter", "ms"),
    )
    found = []
    for key, limit, what, unit in limits:
        value = link.get(key)
        if limit is not None and isinstance(value, int | float) and value > limit:
            found.append(f"{what} over {profile.name}'s {limit} {unit}")
    return tuple(found)
