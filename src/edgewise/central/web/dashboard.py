"""The dashboard: sites by presence and sync state, alarms by severity (root causes first),
operations in flight, rollouts' progress."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from edgewise.central.web.auth import PortalDep
from edgewise.central.web.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, caller: PortalDep) -> HTMLResponse:
    return render(request, "dashboard.html", caller, section="dashboard", title="Dashboard")
