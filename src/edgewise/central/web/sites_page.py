"""A site's page (`GET /ui/sites/{id}`): its facts, desired against applied revision, its links
with latency/loss/jitter charts over 1 h / 24 h / 7 d (`charts`), its VNFs with state and
counters, recent events; and the enrollment token's re-issue and the revocation (POST forms)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from edgewise.central.api.deps import RuntimeDep, SessionDep, SettingsDep
from edgewise.central.orchestrator.links import list_links
from edgewise.central.services import enrollment, site_channel, telemetry_history
from edgewise.central.services.errors import NotFound
from edgewise.central.services.site_pages import recent_events
from edgewise.central.services.sites import read_site
from edgewise.central.services.telemetry import Retention
from edgewise.central.web.auth import PortalDep, WriterDep
from edgewise.central.web.charts import Chart, charts_of
from edgewise.central.web.templating import redirect, render

router = APIRouter(include_in_schema=False)  # included by `sites.router` (under /ui)
RANGES: Final = {"1h": 3600, "24h": 86400, "7d": 7 * 86400}
MAX_VNFS: Final = 200
MAX_COUNTERS: Final = 40


@dataclass(frozen=True)
class VnfLine:
    service_id: str
    name: str
    function: str
    healthy: bool
    faults: tuple[str, ...]
    counters: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class LinkCharts:
    name: str
    state: str  # as last reported ("unknown" before a report)
    charts: tuple[Chart, ...]  # empty: no history in the range


def vnf_lines(status: Mapping[str, Any], counters: Mapping[str, Any]) -> tuple[VnfLine, ...]:
    """The VNFs the site last reported (its status), with the latest counters of each (its
    counters report, else those of the status)."""
    lines: list[VnfLine] = []
    for service in status.get("services") or ():
        if not isinstance(service, Mapping):
            continue
        service_id = str(service.get("id", ""))
        found = counters.get(service_id)
        counted: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        for vnf in service.get("vnfs") or ():
            if not isinstance(vnf, Mapping) or len(lines) >= MAX_VNFS:
                continue
            name = str(vnf.get("name", ""))
            values = counted.get(name) or vnf.get("counters") or {}
            shown = (
                tuple((str(k), str(v)) for k, v in sorted(values.items())[:MAX_COUNTERS])
                if isinstance(values, Mapping)
                else ()
            )
            lines.append(VnfLine(service_id, name, str(vnf.get("function", "")),
                                 bool(vnf.get("healthy")), tuple(map(str, vnf.get("faults") or ())),
                                 shown))  # fmt: skip
    return tuple(lines)


@router.get("/sites/{site_id}", response_class=HTMLResponse)
def site_page(  # noqa: PLR0917 (a route: FastAPI passes them by name)
    request: Request,
    site_id: str,
    caller: PortalDep,
    session: SessionDep,
    settings: SettingsDep,
    range_: str = Query("24h", alias="range", max_length=8),
) -> HTMLResponse:
    principal = caller.principal
    site = read_site(session, principal, site_id)
    if range_ not in RANGES:
        return render(
            request, "error.html", caller, status_code=400, title="Error 400",
            status=400, detail=f"range {range_!r} is not one of {', '.join(RANGES)}",
        )  # fmt: skip
    now = datetime.now(UTC)
    since = datetime.fromtimestamp(now.timestamp() - RANGES[range_], UTC).isoformat()
    asked = telemetry_history.window(since, None, None, now, Retention(settings.history_retention))
    links = []
    for link in list_links(session, principal, site_id).links:
        try:
            found = telemetry_history.read(session, principal, site_id, link.name, asked=asked,
                                           now=now)  # fmt: skip
        except NotFound:
            charts: tuple[Chart, ...] = ()
        else:
            charts = charts_of(found) if found.points else ()
        state = link.reported.state if link.reported else "unknown"
        links.append(LinkCharts(link.name, state, charts))
    status = site_channel.get_status(session, site_id)
    counters = site_channel.get_counters(session, site_id)
    return render(
        request, "sites/site.html", caller, section="sites", title=f"Site {site.name}",
        site=site, status=status, links=links, ranges=list(RANGES), range=range_,
        vnfs=vnf_lines(status.detail, counters["services"]), counters_at=counters["at"],
        events=recent_events(session, principal, site_id),
    )  # fmt: skip


@router.post("/sites/{site_id}/enrollment-token", response_class=HTMLResponse)
def reissue_token(
    request: Request, site_id: str, caller: WriterDep, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    """A new one-time token, shown on this answer only (it is stored hashed)."""
    token = enrollment.issue_token(session, caller.principal, site_id)
    site = read_site(session, caller.principal, site_id)
    return render(
        request, "sites/token.html", caller, section="sites", title=f"Token of {site.name}",
        site=site, token=token, fingerprint=runtime.authority.fingerprint,
    )  # fmt: skip


@router.post("/sites/{site_id}/revoke")
def revoke_site(site_id: str, caller: WriterDep, session: SessionDep) -> RedirectResponse:
    site = enrollment.revoke(session, caller.principal, site_id)
    return redirect(
        f"/ui/sites/{quote(site_id, safe='')}",
        notice=f"Site {site.name} is revoked: its certificate no longer works; issue a new "
        "enrollment token to bring it back.",
    )
