"""A VNFD's scaling aspect, looked up for SCALE_VNF and for auto-scaling rules (its own module:
both import it, and neither may import the other's NS life cycle)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.software import package_of
from edgewise.tosca.vnfscaling import VnfAspect, vnf_aspects


def vnf_aspect(  # noqa: PLR0917 - the VNFD of a VNF profile, the tenant, the aspect asked
    session: Session,
    nsds: NsdModels,
    vnfd_id: str,
    flavour_id: str,
    tenant_id: str | None,
    aspect_id: str,
) -> tuple[VnfAspect | None, str]:
    """The scaling aspect `aspect_id` of the VNFD's flavour, or None and why not."""
    package, why = package_of(session, vnfd_id, tenant_id, enabled=False)
    if package is None:
        return None, f"its scaling aspects are unknown: {why}"
    vnfd = nsds.vnfd(package)
    flavour = next((f for f in vnfd.flavours if f.flavour_id == flavour_id), None)
    flavour = flavour or (vnfd.flavours[0] if vnfd.flavours else None)
    if flavour is None:
        return None, f"VNFD {vnfd_id!r} has no deployment flavour"
    usable, refused = vnf_aspects(flavour)
    if aspect_id in refused:
        return None, f"aspect {aspect_id!r} of VNFD {vnfd_id!r}: {refused[aspect_id]}"
    if aspect_id not in usable:
        known = ", ".join(sorted([*usable, *refused])) or "none"
        return None, f"aspect {aspect_id!r} is not one of VNFD {vnfd_id!r}'s (it has {known})"
    return usable[aspect_id], ""
