"""Rendering: one Jinja2 environment (autoescaped), and `render()`, which gives every page the
signed-in caller, the CSRF token, the navigation for the caller's role and a one-time notice."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from edgewise import __version__
from edgewise.central.services.access import Principal, Role
from edgewise.central.services.web_sessions import WebCaller

HERE = Path(__file__).parent
ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,  # a template naming what the page did not give fails its test
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["q"] = lambda value: quote(str(value), safe="")
NOTICE_COOKIE = "edgewise_notice"
NOTICE_MAX = 300


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    section: str  # the page's `section` that marks this item current


OPERATOR_NAV = (
    NavItem("/ui/", "Dashboard", "dashboard"),
    NavItem("/ui/sites", "Sites", "sites"),
    NavItem("/ui/ns", "Services", "ns"),
    NavItem("/ui/operations", "Operations", "operations"),
    NavItem("/ui/rollouts", "Rollouts", "rollouts"),
    NavItem("/ui/catalog", "Catalog", "catalog"),
    NavItem("/ui/designer", "Designer", "designer"),
    NavItem("/ui/alarms", "Alarms", "alarms"),
    NavItem("/ui/tenants", "Tenants and users", "tenants"),
)
CUSTOMER_NAV = (
    NavItem("/ui/", "Overview", "dashboard"),
    NavItem("/ui/sites", "My sites", "sites"),
    NavItem("/ui/ns", "My services", "ns"),
    NavItem("/ui/order", "Order a service", "order"),
    NavItem("/ui/operations", "Operations", "operations"),
    NavItem("/ui/alarms", "Alarms", "alarms"),
)
TENANT_ADMIN_EXTRA = (NavItem("/ui/tenants", "Users", "tenants"),)


def nav_for(principal: Principal) -> tuple[NavItem, ...]:
    if principal.is_admin:
        return OPERATOR_NAV
    if principal.role is Role.TENANT_ADMIN:
        return CUSTOMER_NAV + TENANT_ADMIN_EXTRA
    return CUSTOMER_NAV


def render(
    request: Request,
    template: str,
    caller: WebCaller | None,
    *,
    status_code: int = 200,
    section: str = "",
    title: str = "",
    **context: Any,
) -> HTMLResponse:
    """A whole page (or a fragment: a template that extends nothing) for `caller`."""
    notice = request.cookies.get(NOTICE_COOKIE, "")[:NOTICE_MAX]
    page = ENV.get_template(template).render(
        request=request,
        caller=caller,
        principal=caller.principal if caller else None,
        csrf=caller.csrf_token if caller else "",
        nav=nav_for(caller.principal) if caller else (),
        section=section,
        title=title,
        notice=notice,
        version=__version__,
        **context,
    )
    response = HTMLResponse(page, status_code=status_code)
    if notice:
        response.delete_cookie(NOTICE_COOKIE, path="/ui")
    return response


def wants_fragment(request: Request) -> bool:
    """A request of the portal's own script (app.js sends `X-Requested-With: edgewise`)."""
    return request.headers.get("x-requested-with") == "edgewise"


def render_live(
    request: Request, page: str, fragment: str, caller: WebCaller, **context: Any
) -> HTMLResponse:
    """A page with a live part: the whole page, or, to the script that reloads that part, the
    part alone (`fragment`, a template the page includes)."""
    chosen = fragment if wants_fragment(request) else page
    return render(request, chosen, caller, **context)


def redirect(url: str, *, notice: str = "") -> RedirectResponse:
    """Post/redirect/get: 303 to `url`, with a notice the next page shows once."""
    response = RedirectResponse(url, status_code=303)
    if notice:
        response.set_cookie(
            NOTICE_COOKIE, notice[:NOTICE_MAX], max_age=60, path="/ui", httponly=True,
            samesite="strict",
        )  # fmt: skip
    return response
