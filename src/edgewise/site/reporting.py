"""What the site controller reports, built pure from a pass: the status body (docs/channel.md)
and the events of the changes it applied (repairs apart from rollouts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgewise.model.desired import DesiredState
from edgewise.site.reconcile import (
    Change,
    ChangeReason,
    ChangeResult,
    ObservedState,
    ObservedVnf,
)
from edgewise.site.sdwan.report import links_report
from edgewise.site.sdwan.sections import ObservedWan

# A change is a repair when the data plane broke (UNHEALTHY: rebuilt, reconfigured, restarted
# or rewired in place), or when it had reached the revision being applied and drifted from it.
DRIFT_REASONS = frozenset(
    {ChangeReason.MISSING, ChangeReason.UNWANTED, ChangeReason.CHAIN_CHANGED,
     ChangeReason.CONFIG_CHANGED}
)  # fmt: skip


def status_body(
    desired: DesiredState,
    observed: ObservedState,
    failures: Mapping[str, str],
    broken: set[str],
    rejection: str | None,
    *,
    peers_told: bool = False,
) -> dict[str, Any]:
    """The status of a pass: its services and VNFs, its errors, the WAN's links, keys and
    tunnels; `peers_told`: an earlier status carried `overlay_peers` (an empty one clears them)."""
    services = []
    for spec in desired.services:
        seen = observed.service(spec.id)
        vnfs = [
            {
                "name": v.name,
                "function": v.function.value,
                "healthy": v.healthy,
                "faults": sorted(v.faults),
                "counters": dict(v.counters),
            }
            for v in (seen.vnfs if seen else ())
        ]
        healthy = all(v.healthy for v in seen.vnfs) if seen else False
        ready = healthy and len(vnfs) == len(spec.vnfs) and spec.id not in broken
        services.append({"id": spec.id, "state": "ready" if ready else "failed", "vnfs": vnfs})
    errors = [f"{key}: {error}" for key, error in sorted(failures.items())]
    if rejection:
        errors.insert(0, rejection)
    status: dict[str, Any] = {
        "revision": desired.revision,
        "state": "degraded" if failures else "converged",
        "services": services,
        "error": "; ".join(errors) or None,
    }
    wan = observed.wan
    if desired.links or wan.links_digest:
        status["wan"] = {"faults": sorted(wan.faults), "notes": list(wan.notes),
                         "counters": dict(wan.counters)}  # fmt: skip
    if wan.overlay_keys:
        status["overlay_keys"] = overlay_keys(wan.overlay_keys)
    if desired.overlays or wan.overlay_peers or peers_told:
        status["overlay_peers"] = overlay_peers(wan.overlay_peers)
    if desired.links:
        status["links"] = links_report(desired.links, wan.counters)
    return status


def is_repair(change: Change, *, was_applied: bool) -> bool:
    """Whether a change mends the data plane, rather than rolls a new revision out."""
    return change.reason is ChangeReason.UNHEALTHY or (
        was_applied and change.reason in DRIFT_REASONS
    )


def change_event(name: str, result: ChangeResult, revision: int) -> dict[str, Any]:
    change = result.change
    seen = change.observed
    faults = seen.faults if isinstance(seen, ObservedVnf | ObservedWan) else frozenset()
    why = change.reason.value + (": " + ", ".join(sorted(faults)) if faults else "")
    detail = f"{change} ({why})"
    if result.error:
        detail += f": {result.error}"
    return {
        "event": name,
        "revision": revision,
        "service": change.service_id,
        "vnf": change.vnf_name,
        "op": change.op.value,
        "reason": change.reason.value,
        "faults": sorted(faults),
        "detail": detail,
    }


def overlay_keys(keys: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """The status's `overlay_keys`: per tenant its public key, and the next during a rotation
    (the central hands them to the tenant's other sites; private keys never leave the site)."""
    return {tenant: dict(entry) for tenant, entry in sorted(keys.items())}


def overlay_peers(peers: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """The status's `overlay_peers`: per tenant, per peer site, its tunnel `up` or `down`
    (a peer within its first handshake's grace is not there: drivers/linux/overlaypeers.py)."""
    return {tenant: dict(sorted(states.items())) for tenant, states in sorted(peers.items())}
