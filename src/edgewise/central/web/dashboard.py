"""The dashboard (`GET /ui/`): sites by presence and sync state, active alarms by severity (root
causes first), operations in flight, rollouts' live progress (a fragment reloaded every 2 s);
the figures come from `services.overview`, scoped to the caller."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from edgewise.central.api.deps import SessionDep
from edgewise.central.services.overview import live_rollouts, overview
from edgewise.central.web.auth import PortalDep
from edgewise.central.web.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)
REFRESH_SECONDS = 2


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, caller: PortalDep, session: SessionDep) -> HTMLResponse:
    figures = overview(session, caller.principal)
    return render(
        request, "dashboard.html", caller, section="dashboard",
        title="Dashboard" if caller.principal.is_admin else "Overview",
        figures=figures, rollouts=figures.rollouts, rollouts_live=figures.rollouts_live,
        every=REFRESH_SECONDS,
    )  # fmt: skip


@router.get("/dashboard/rollouts", response_class=HTMLResponse)
def rollouts_fragment(request: Request, caller: PortalDep, session: SessionDep) -> HTMLResponse:
    """The rollouts' progress alone (what the dashboard reloads every REFRESH_SECONDS)."""
    live, shown = live_rollouts(session, caller.principal)
    return render(request, "dashboard_rollouts.html", caller, rollouts=shown, rollouts_live=live)
