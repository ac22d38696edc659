"""An LCM operation's progress on a self-service page (after an order or a firewall change):
the whole page, or the fragment `[data-refresh]` reloads until the operation ends."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from edgewise.central.orchestrator import occurrences
from edgewise.central.services.web_sessions import WebCaller
from edgewise.central.web.templating import render_live

ENDED = frozenset({"COMPLETED", "FAILED", "ROLLED_BACK"})
EVERY_S = 1  # how often the page asks while the operation runs


def progress_page(
    request: Request,
    session: Session,
    caller: WebCaller,
    op_id: str,
    *,
    section: str,
    back: tuple[str, str],
) -> HTMLResponse:
    """The operation's state and sites done (NotFound for another tenant's operation)."""
    op = occurrences.read_operation(session, caller.principal, op_id)
    return render_live(
        request, "selfservice/progress.html", "selfservice/progress_fragment.html",
        caller, section=section, title=f"{op.operation.title()} of the service", op=op,
        ended=op.state in ENDED, every=EVERY_S, back=back, refresh=request.url.path,
    )  # fmt: skip
