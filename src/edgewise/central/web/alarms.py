"""Alarms: the filtered list (root causes first, each with the alarms it explains), an alarm's
page with its root-cause tree, and acknowledging one — over `services.alarm_pages` and
`services.alarm_queries.acknowledge` (the call nsfm's PATCH makes)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from edgewise.central.api.deps import SessionDep
from edgewise.central.services import alarm_pages, alarm_queries
from edgewise.central.services.alarm_pages import ID_MAX, AlarmFilter
from edgewise.central.services.alarm_terms import Kind, Severity
from edgewise.central.services.errors import Conflict, Invalid
from edgewise.central.services.paging import Page
from edgewise.central.web.auth import PortalDep, WriterDep
from edgewise.central.web.templating import redirect, render, render_live

router = APIRouter(prefix="/ui", include_in_schema=False)
PAGE_SIZE = 50
Filter = Annotated[str, Query(max_length=40)]
AlarmId = Annotated[str, Path(max_length=ID_MAX)]


@router.get("/alarms", response_class=HTMLResponse)
def alarms_page(
    request: Request,
    *,
    session: SessionDep,
    caller: PortalDep,
    severity: Filter = "",
    kind: Filter = "",
    state: Filter = "",
    ack: Filter = "",
    site: Annotated[str, Query(max_length=ID_MAX)] = "",
    root: Filter = "",
    marker: Annotated[str, Query(max_length=2048)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = PAGE_SIZE,
) -> HTMLResponse:
    """The alarms the caller sees, filtered, root causes first; a script's request gets the
    table alone (the page refreshes it every few seconds)."""
    filters = AlarmFilter(severity, kind, state, ack, site, root)
    principal = caller.principal
    error, problems = "", {}
    try:
        found = alarm_pages.list_page(
            session, principal, filters, marker=marker or None, limit=limit
        )
    except Invalid as bad:
        error = bad.detail
        problems = {p.where: p.message for p in bad.problems}
        found = Page((), None)
    query = {k: v for k, v in (("severity", severity), ("kind", kind), ("state", state),
                               ("ack", ack), ("site", site), ("root", root)) if v}  # fmt: skip
    context: dict[str, Any] = {
        "alarms": found.items,
        "explained": alarm_pages.explained_by(session, principal, found.items),
        "sites": alarm_pages.site_names(session, principal, [a.site_id or "" for a in found.items]),
        "next_url": f"/ui/alarms?{urlencode(query | {'marker': found.next_marker})}"
        if found.next_marker
        else "",
        "first_url": f"/ui/alarms?{urlencode(query)}" if marker else "",
        "refresh_url": f"/ui/alarms?{urlencode(query | ({'marker': marker} if marker else {}))}",
    }
    return render_live(
        request, "alarms/list.html", "alarms/table.html", caller,
        status_code=400 if error else 200,
        section="alarms", title="Alarms", error=error, problems=problems, filters=filters,
        severities=list(Severity), kinds=list(Kind), **context,
    )  # fmt: skip


@router.get("/alarms/{alarm_id}", response_class=HTMLResponse)
def alarm_page(
    request: Request, alarm_id: AlarmId, session: SessionDep, caller: PortalDep
) -> HTMLResponse:
    return _alarm(request, session, caller, alarm_id)


@router.post("/alarms/{alarm_id}/acknowledge", response_model=None)
def acknowledge(
    request: Request, alarm_id: AlarmId, session: SessionDep, caller: WriterDep
) -> RedirectResponse | HTMLResponse:
    """Acknowledges the alarm; an alarm already acknowledged shows the API's 409 words."""
    try:
        alarm_queries.acknowledge(session, caller.principal, alarm_id)
    except Conflict as refused:
        return _alarm(request, session, caller, alarm_id, error=refused.detail, status=409)
    return redirect(f"/ui/alarms/{alarm_id}", notice=f"Alarm {alarm_id} acknowledged.")


def _alarm(
    request: Request,
    session: SessionDep,
    caller: PortalDep,
    alarm_id: str,
    *,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    principal = caller.principal
    tree = alarm_pages.tree_of(session, principal, alarm_id)
    every = [tree.alarm, tree.root, *tree.explained]
    return render(
        request, "alarms/alarm.html", caller, status_code=status, section="alarms",
        title=f"Alarm {tree.alarm.kind}", tree=tree, alarm=tree.alarm, error=error,
        sites=alarm_pages.site_names(session, principal, [a.site_id or "" for a in every]),
    )  # fmt: skip
