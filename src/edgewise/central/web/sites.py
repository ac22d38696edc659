"""The sites list (`GET /ui/sites`): filters (labels, kind, presence, sync state, tenant, name
prefix) read and checked here, keyset pages of 50 from `services.site_pages`; a bad filter is
a 400 page naming it. A site's own page is `sites_page`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from edgewise.central.api.deps import SessionDep
from edgewise.central.services.errors import Invalid
from edgewise.central.services.site_pages import (
    PAGE_SIZE,
    SiteFilter,
    SyncState,
    list_sites,
    tenant_names,
)
from edgewise.central.web import sites_page
from edgewise.central.web.auth import PortalDep
from edgewise.central.web.templating import render
from edgewise.model.sites import LabelSelector, Presence, SiteKind

router = APIRouter(prefix="/ui", include_in_schema=False)
FILTERS: Final = ("label", "kind", "presence", "sync", "tenant", "name", "after", "before")
MAX_LABELS: Final = 10
MAX_TEXT: Final = 255
MAX_MARKER: Final = 2048


@dataclass(frozen=True)
class FilterProblem:
    name: str  # the query parameter
    message: str


@dataclass(frozen=True)
class Asked:
    """The list's query as the form shows it again, and the filter it makes."""

    labels: tuple[str, ...]
    kind: str
    presence: str
    sync: str
    tenant: str
    name: str
    wanted: SiteFilter

    def query(self, **extra: str) -> str:
        pairs = [("label", label) for label in self.labels]
        named = (("kind", self.kind), ("presence", self.presence), ("sync", self.sync),
                 ("tenant", self.tenant), ("name", self.name))  # fmt: skip
        pairs += [(k, v) for k, v in named if v]
        pairs += list(extra.items())
        return urlencode(pairs)


def read_filters(request: Request, *, operator: bool) -> tuple[Asked, list[FilterProblem]]:
    """The filters of the request's query; every bad one named (never an exception)."""
    params = request.query_params
    problems = [
        FilterProblem(n, "is not a filter of this list") for n in params if n not in FILTERS
    ]
    problems += [
        FilterProblem(name, "is too long")
        for name, value in params.multi_items()
        if len(value) > (MAX_MARKER if name in ("after", "before") else MAX_TEXT)
    ]
    if problems:
        return Asked((), "", "", "", "", "", SiteFilter()), problems
    labels = tuple(v.strip() for v in params.getlist("label") if v.strip())
    pairs: dict[str, str] = {}
    if len(labels) > MAX_LABELS:
        problems.append(FilterProblem("label", f"at most {MAX_LABELS} labels"))
    for text in labels[:MAX_LABELS]:
        try:
            pairs.update(LabelSelector.parse(text).required)
        except ValueError as exc:
            problems.append(FilterProblem("label", f"{text!r}: {exc}"))
    kind, presence, sync = (params.get(n, "").strip() for n in ("kind", "presence", "sync"))
    tenant, name = params.get("tenant", "").strip(), params.get("name", "").strip()
    if tenant and not operator:
        problems.append(FilterProblem("tenant", "only an operator filters by tenant"))
    wanted = SiteFilter(
        labels=pairs,
        kind=_choice(SiteKind, kind, "kind", problems),
        presence=_choice(Presence, presence, "presence", problems),
        sync=_choice(SyncState, sync, "sync", problems),
        tenant_id=tenant or None,
        name_prefix=name or None,
    )
    return Asked(labels, kind, presence, sync, tenant, name, wanted), problems


E = TypeVar("E", SiteKind, Presence, SyncState)


def _choice(kind: type[E], value: str, name: str, problems: list[FilterProblem]) -> E | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        problems.append(FilterProblem(name, f"{value!r} is not one of {choices}"))
        return None


@router.get("/sites", response_class=HTMLResponse)
def sites_list(request: Request, caller: PortalDep, session: SessionDep) -> HTMLResponse:
    operator = caller.principal.is_admin
    asked, problems = read_filters(request, operator=operator)
    context: dict[str, Any] = {
        "asked": asked, "kinds": list(SiteKind), "presences": list(Presence),
        "syncs": list(SyncState), "operator": operator, "page_size": PAGE_SIZE,
    }  # fmt: skip
    if not problems:
        after, before = request.query_params.get("after"), request.query_params.get("before")
        try:
            page, previous = list_sites(
                session, caller.principal, asked.wanted,
                marker=before or after, backwards=bool(before),
            )  # fmt: skip
        except Invalid as exc:  # a marker this server did not issue
            problems = [FilterProblem("before" if before else "after", exc.detail)]
        else:
            return render(
                request, "sites/list.html", caller, section="sites", title="Sites",
                lines=page.items, problems=[], errors={},
                tenants=tenant_names(session, caller.principal,
                                     {line.site.tenant_id for line in page.items}),
                next_url=f"/ui/sites?{asked.query(after=page.next_marker)}"
                if page.next_marker else None,
                previous_url=f"/ui/sites?{asked.query(before=previous)}" if previous else None,
                **context,
            )  # fmt: skip
    return render(
        request, "sites/list.html", caller, status_code=400, section="sites", title="Sites",
        lines=(), problems=problems, errors={p.name: p.message for p in problems}, tenants={},
        next_url=None, previous_url=None, **context,
    )  # fmt: skip


router.include_router(sites_page.router)  # a site's page: after the list's route
