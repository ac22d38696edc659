"""Self-service steering preferences (/ui/sites/{id}/steering): the tenant's preferences per
application class within the bounds its operator set, seen from one of its own sites. A change
is previewed by making it with the orchestrator's own steering functions (the API's refusals,
word for word) inside the request's transaction, reading the site's composed steering, and
rolling back; it is applied on confirm the same way, for good."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from edgewise.central.api.deps import SessionDep
from edgewise.central.api.problems import status_of
from edgewise.central.orchestrator import sdwan, steering
from edgewise.central.orchestrator import steering_catalogue as catalogue
from edgewise.central.services import site_channel, sites
from edgewise.central.services.errors import InputProblem, Invalid, ServiceError
from edgewise.central.services.web_sessions import WebCaller
from edgewise.central.web.auth import PortalDep, WriterDep
from edgewise.central.web.firewall_edits import config_diff
from edgewise.central.web.templating import redirect, render
from edgewise.model.fields import write

router = APIRouter(include_in_schema=False)  # included by selfservice.router (prefix /ui)
SiteId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
LINKS_MAX = 16  # links named in one preference
TEXT_MAX = 256


@dataclass(frozen=True)
class Preference:
    """What the form asks: set (or remove) the tenant's preference for one class."""

    class_name: str
    links: tuple[str, ...]
    sla: str | None
    spread: bool
    remove: bool = False

    @classmethod
    def of(cls, posted: dict[str, str]) -> Preference:
        links = tuple(n.strip() for n in posted.get("links", "")[:TEXT_MAX].split(",") if n.strip())
        return cls(
            posted.get("class", "")[:TEXT_MAX], links[:LINKS_MAX],
            posted.get("sla", "")[:TEXT_MAX] or None, posted.get("spread") == "true",
            posted.get("action") == "remove",
        )  # fmt: skip

    @property
    def sentence(self) -> str:
        if self.remove:
            return f"Removes your preference for class {self.class_name!r}: the operator's apply."
        sla = f", SLA profile {self.sla}" if self.sla else ""
        spread = ", spread over them" if self.spread else ""
        return (f"Steers class {self.class_name!r} over " + ", ".join(self.links or ("no link",))
                + f" in that order{sla}{spread}.")  # fmt: skip


@router.get("/sites/{site_id}/steering", response_class=HTMLResponse)
def steering_page(
    request: Request, site_id: SiteId, session: SessionDep, caller: PortalDep
) -> HTMLResponse:
    return _page(request, session, caller, site_id, {}, None)


@router.get("/sites/{site_id}/steering/sync", response_class=HTMLResponse)
def steering_sync(
    request: Request, site_id: SiteId, session: SessionDep, caller: PortalDep
) -> HTMLResponse:
    """Whether the site runs its latest document yet (the page reloads this every 2 s)."""
    sites.read_site(session, caller.principal, site_id)
    return render(request, "selfservice/site_sync.html", caller,
                  status=site_channel.get_status(session, site_id))  # fmt: skip


@router.post("/sites/{site_id}/steering/preview", response_class=HTMLResponse)
async def steering_preview(
    request: Request, site_id: SiteId, session: SessionDep, caller: WriterDep
) -> HTMLResponse:
    posted = await _posted(request)
    return await run_in_threadpool(_preview, request, session, caller, site_id, posted)


def _preview(
    request: Request, session: Session, caller: WebCaller, site_id: str, posted: dict[str, str]
) -> HTMLResponse:
    site = sites.read_site(session, caller.principal, site_id)
    ask = Preference.of(posted)
    before = _effective(session, site_id)
    try:
        _make(session, caller, site.tenant_id, ask)
        after = _effective(session, site_id)
    except ServiceError as refused:
        session.rollback()
        return _page(request, session, caller, site_id, posted, refused)
    session.rollback()  # a preview: what the change would make, nothing kept
    return render(
        request, "selfservice/steering_preview.html", caller, section="sites",
        title=f"Preview: steering at {site.name}", site=site, ask=ask, posted=posted,
        diff=config_diff(before, after, "steering"), after=after,
    )  # fmt: skip


@router.post("/sites/{site_id}/steering/apply", response_model=None)
async def steering_apply(
    request: Request, site_id: SiteId, session: SessionDep, caller: WriterDep
) -> Response:
    posted = await _posted(request)
    return await run_in_threadpool(_apply, request, session, caller, site_id, posted)


def _apply(
    request: Request, session: Session, caller: WebCaller, site_id: str, posted: dict[str, str]
) -> Response:
    site = sites.read_site(session, caller.principal, site_id)
    ask = Preference.of(posted)
    try:
        _make(session, caller, site.tenant_id, ask)
    except ServiceError as refused:
        session.rollback()
        return _page(request, session, caller, site_id, posted, refused)
    return redirect(f"/ui/sites/{site_id}/steering", notice="Applied: " + ask.sentence)


def _make(session: Session, caller: WebCaller, tenant_id: str, ask: Preference) -> None:
    """The change, by the functions the API's steering-policies routes call."""
    principal = caller.principal
    mine = next((p for p in steering.list_policies(session, principal)
                 if p.scope == "tenant" and p.tenant_id == tenant_id
                 and p.class_name == ask.class_name), None)  # fmt: skip
    if ask.remove:
        if mine is None:
            raise Invalid("nothing to remove", [InputProblem("class", "you set no preference")])
        steering.delete_policy(session, principal, mine.id)
    elif mine is None:
        spec = steering.PolicySpec("tenant", None, tenant_id, ask.class_name, ask.links,
                                   ask.sla, ask.spread)  # fmt: skip
        steering.create_policy(session, principal, spec)
    else:
        steering.update_policy(session, principal, mine.id, links=ask.links, sla=ask.sla,
                               clear_sla=ask.sla is None, spread=ask.spread)  # fmt: skip


def _effective(session: Session, site_id: str) -> dict[str, Any]:
    found = sdwan.compose_sites(session, [site_id])[site_id].steering
    shown: dict[str, Any] = {} if found.steering is None else dict(write(found.steering))
    return {"policies": shown.get("policies", [])}


def _page(  # noqa: PLR0917 - the page, its site, what the form holds and a refusal
    request: Request,
    session: Session,
    caller: WebCaller,
    site_id: str,
    posted: dict[str, str],
    refused: ServiceError | None,
) -> HTMLResponse:
    principal = caller.principal
    site = sites.read_site(session, principal, site_id)
    bounds = steering.read_bounds(session, principal, site.tenant_id)
    mine = {p.class_name: p for p in steering.list_policies(session, principal)
            if p.scope == "tenant" and p.tenant_id == site.tenant_id}  # fmt: skip
    composed = sdwan.compose_sites(session, [site_id])[site_id].steering
    problems = list(refused.problems) if isinstance(refused, Invalid) else []
    return render(
        request, "selfservice/steering.html", caller,
        status_code=status_of(refused) if refused is not None else 200, section="sites",
        title=f"Steering preferences at {site.name}", site=site, bounds=bounds, mine=mine,
        effective=json.dumps(_effective(session, site_id)["policies"], indent=2),
        left_out=composed.left_out, slas=[n.name for n in catalogue.list_all(
            session, catalogue.SLA_PROFILES)], posted=posted, refused=refused,
        problems=problems, status=site_channel.get_status(session, site_id),
    )  # fmt: skip


async def _posted(request: Request) -> dict[str, str]:
    got = await request.form(max_files=0, max_fields=20)
    return {key: value for key, value in got.items() if isinstance(value, str)}
