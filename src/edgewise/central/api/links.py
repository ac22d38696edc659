"""Native API: a site's WAN links (`/api/v1/sites/{siteId}/links`): operators set them, a tenant
reads those of its sites with what each site last reported. Routes call `orchestrator.links`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from edgewise.central.api.deps import CallerDep, SessionDep
from edgewise.central.api.sdwan_schemas import LinkPublic
from edgewise.central.orchestrator import links

router = APIRouter(prefix="/api/v1", tags=["sd-wan"])


@router.get("/sites/{siteId}/links", operation_id="listSiteLinks")
def list_site_links(siteId: str, session: SessionDep, caller: CallerDep) -> list[LinkPublic]:
    """The site's WAN links in order: each as desired, and its last reported state, figures
    (latency, loss, jitter over the probe window) and per-class counters."""
    return [LinkPublic.of(link) for link in links.list_links(session, caller, siteId).links]


@router.get("/sites/{siteId}/link-events", operation_id="listSiteLinkEvents")
def list_site_link_events(
    siteId: str, session: SessionDep, caller: CallerDep
) -> list[dict[str, Any]]:
    """The site's latest link-state changes (the events it sent), newest first."""
    return list(links.list_links(session, caller, siteId).changes)


@router.post("/sites/{siteId}/links", status_code=201, operation_id="addSiteLink")
def add_site_link(
    siteId: str, body: dict[str, Any], session: SessionDep, caller: CallerDep
) -> LinkPublic:
    """Adds a WAN link (the contract's link: name, kind, interface, address, gateway or dhcp,
    bandwidth_up/down, cost, metered, probe); the site gets a new revision."""
    return LinkPublic.of(links.add_link(session, caller, siteId, body))


@router.get("/sites/{siteId}/links/{name}", operation_id="readSiteLink")
def read_site_link(siteId: str, name: str, session: SessionDep, caller: CallerDep) -> LinkPublic:
    return LinkPublic.of(links.read_link(session, caller, siteId, name))


@router.patch("/sites/{siteId}/links/{name}", operation_id="updateSiteLink")
def update_site_link(
    siteId: str, name: str, body: dict[str, Any], session: SessionDep, caller: CallerDep
) -> LinkPublic:
    """Changes the link: a JSON merge patch (RFC 7396) of its fields (null removes one)."""
    return LinkPublic.of(links.update_link(session, caller, siteId, name, body))


@router.delete("/sites/{siteId}/links/{name}", status_code=204, operation_id="removeSiteLink")
def remove_site_link(siteId: str, name: str, session: SessionDep, caller: CallerDep) -> Response:
    """Removes the link; 409 while the site's own steering policies or an overlay name it."""
    links.remove_link(session, caller, siteId, name)
    return Response(status_code=204)
