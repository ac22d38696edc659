"""The site-level sections as the reconciler compares them (pure): a digest per section, as VNFs
compare config digests, and what a driver reports of the WAN namespace (`ObservedWan`).

`plan` (site.reconcile) plans UPDATE_LINKS when the links digest differs or the links are
broken, UPDATE_STEERING when the steering digest differs, the steering is broken or its DPI
classifier or its application cache is broken (dpi-broken), and UPDATE_OVERLAYS when the
overlays digest differs or an overlay device is broken.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from edgewise.model.desired import DesiredState, canonical_json
from edgewise.model.fields import write


class WanFault(StrEnum):
    """What a driver found broken in the WAN namespace; each is mended by applying again."""

    LINKS_BROKEN = "links-broken"  # a link's table, rule, route or NAT is gone or wrong
    STEERING_BROKEN = "steering-broken"  # the steering table is gone, flushed or partial
    DPI_BROKEN = "dpi-broken"  # the DPI classifier died (its restart due) or its cache is gone
    OVERLAYS_BROKEN = "overlays-broken"  # an overlay device, its process or a rule is gone


def links_digest(desired: DesiredState) -> str:
    """SHA-256 of the canonical links section; "" for a site without links."""
    if not desired.links:
        return ""
    return _digest([write(link) for link in desired.links])


def steering_digest(desired: DesiredState) -> str:
    """SHA-256 of what the steering table is built from: the steering section, the links (their
    marks and order), and the services of each tenant a policy names; "" without links."""
    if not desired.links:
        return ""
    tenants = {p.tenant for p in desired.steering.policies if p.tenant is not None}
    owners = {
        tenant: sorted(s.id for s in desired.services if s.tenant == tenant)
        for tenant in sorted(tenants)
    }
    return _digest([write(desired.steering), links_digest(desired), owners])


def overlays_digest(desired: DesiredState) -> str:
    """SHA-256 of what the overlay devices are built from: the overlays section and the links
    (the marks the tunnels leave by); "" for a site without overlays."""
    if not desired.overlays:
        return ""
    return _digest([[write(o) for o in desired.overlays], links_digest(desired)])


def tenant_scoped(desired: DesiredState) -> bool:
    """Whether a policy applies to one tenant's services only (its sources follow their slots)."""
    return any(p.tenant is not None for p in desired.steering.policies)


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


@dataclass(frozen=True)
class ObservedWan:
    """What a driver sees of the WAN namespace: the digests it was built from ("" when nothing
    or something unknown is there), what is broken, and what it counted (reported only)."""

    links_digest: str = ""
    steering_digest: str = ""
    faults: frozenset[WanFault] = frozenset()
    counters: Mapping[str, Any] = field(default_factory=dict, compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)  # told in the site's status
    overlays_digest: str = ""
    # per tenant: {"public_key", "next_public_key"?}, reported as the status's `overlay_keys`
    overlay_keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False)
    # per tenant, per peer site: "up" | "down" (drivers/linux/overlaypeers.py), reported as
    # the status's `overlay_peers`
    overlay_peers: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False)
