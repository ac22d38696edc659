"""Tenant isolation of the portals: every `/ui` route of the app, walked as tenant globex with
the ids of tenant acme's objects in its path (as tests/central/api/test_tenancy.py walks the
API). Every GET and POST answers 404 — or 403 only where a made-up id gets the same 403 (the
route refuses the role before it looks, so nothing of acme's leaks) — never acme's data, never
a 500, and a POST changes nothing in the store; every page without a path parameter, as
globex, shows no name or id of acme's. The routes come from the app itself, so the routes
other parts add are walked once merged; a path parameter or form field the walk cannot fill
fails it, naming the route, until an object or a value is added here."""

from __future__ import annotations

import enum
import re
import time
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import select

from edgewise.central.services.alarm_terms import Kind
from edgewise.central.store.tables import Base
from tests.central.api.conftest import Central
from tests.central.api.nsfm_alarms import raise_alarm
from tests.central.api.test_catalog import PKGS, onboard_nsd
from tests.central.web.conftest import Portal

PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
# acme's objects carry these names, so a page showing one is caught
SECRET = (
    "acmesecrethq", "acmesecretns", "acmesecretuser", "acmesecretgroup", "acmesecretroll",
    "acmesecretedge",
)  # fmt: skip
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"  # an id nothing has
# volatile tables the workers and the sign-ins write whatever the walk does
VOLATILE = frozenset({"web_sessions", "site_status"})
SETTLE_S = 3.0  # s: more than the alarm sweep's pace (workers.ALARM_SWEEP_S, 2 s)


@dataclass(frozen=True)
class Acme:
    """acme's objects: by kind of object (`ids`), and every id and name to look for."""

    ids: dict[str, str]

    @property
    def secrets(self) -> set[str]:
        return set(SECRET) | {v for k, v in self.ids.items() if k != "link"}


# a path parameter's object: by the parameter's name (lower case, no '_' or '-') ...
BY_NAME = {
    "alarmid": "alarm", "siteid": "site", "nsinstanceid": "ns", "nsid": "ns",
    "instanceid": "ns", "nsdid": "nsd", "nsdinfoid": "nsd", "vnfpkgid": "package",
    "packageid": "package", "pkgid": "package", "tenantid": "tenant", "userid": "user",
    "opid": "operation", "operationid": "operation", "occid": "operation",
    "nslcmopoccid": "operation", "rolloutid": "rollout", "groupid": "group",
    "tokenid": "token", "linkname": "link",
}  # fmt: skip
# ... or, for a generic name ({id}), by the collection it follows
BY_COLLECTION = {
    "alarms": "alarm", "sites": "site", "ns": "ns", "services": "ns", "operations": "operation",
    "rollouts": "rollout", "tenants": "tenant", "users": "user", "packages": "package",
    "nsds": "nsd", "designer": "nsd", "order": "nsd", "groups": "group", "tokens": "token",
    "links": "link",
}  # fmt: skip


# path parameters that name no object but one of a few words: the walk tries every word
CHOICES = {
    "action": ("retry", "rollback", "fail", "cancel"),
    "move": ("pause", "resume", "abort"),
    "kind": ("vnfpkg", "nsd"),
}
BY_COLLECTION |= {"vnfpkg": "package", "nsd": "nsd"}  # /ui/catalog/{kind}/{item_id}


def expanded(template: str) -> Iterator[str]:
    """The template with each CHOICES parameter replaced by each of its words, in turn."""
    for part in template.split("/"):
        found = PARAM.fullmatch(part)
        if found and found.group(1) in CHOICES:
            for word in CHOICES[found.group(1)]:
                yield from expanded(template.replace(part, word, 1))
            return
    yield template


def acme_objects(portal: Portal, central: Central) -> Acme:
    client, admin = portal.client, portal.admin.headers
    acme = central.tenant("acme")
    own = acme.headers

    def made(url: str, body: dict[str, Any]) -> str:
        answer = client.post(url, json=body, headers=own)
        assert answer.status_code in (201, 202), (url, answer.text)
        return str(answer.json()["id"])

    nsd = onboard_nsd(central, acme)
    package = made(PKGS, {})
    site = made("/api/v1/sites", {"name": SECRET[0], "kind": "on-premise"})
    edge = {"name": SECRET[5], "kind": "on-premise", "labels": {"rollout": "yes"}}
    central.bring_online([site, made("/api/v1/sites", edge)])
    link = {"name": "mpls", "kind": "mpls", "interface": "wan0", "dhcp": True}
    assert client.post(f"/api/v1/sites/{site}/links", json=link, headers=admin).status_code == 201
    group = made("/api/v1/site-groups", {"name": SECRET[3], "siteIds": [site]})
    token = made("/api/v1/tokens", {"name": "acmesecrettoken"})
    user = client.post(
        "/api/v1/users", json={"name": SECRET[2], "tenantId": acme.tenant_id}, headers=admin
    ).json()["id"]
    ns = made("/nslcm/v1/ns_instances", {"nsdId": nsd, "nsName": SECRET[1]})
    started = client.post(
        f"/nslcm/v1/ns_instances/{ns}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"sites": [site]}},
        headers=own,
    )
    assert started.status_code == 202, started.text
    operation = started.headers["Location"].rsplit("/", 1)[-1]
    rollout = made(
        "/api/v1/rollouts", {"name": SECRET[4], "nsdId": nsd, "labels": "rollout=yes",
                             "batchSize": 1},
    )  # fmt: skip
    # stopped, so that the workers do not move it on while the walk compares the store
    assert client.post(f"/api/v1/rollouts/{rollout}/abort", headers=own).status_code == 200
    alarm = raise_alarm(central, Kind.SITE_OFFLINE, tenant_id=acme.tenant_id, site_id=site)
    return Acme({
        "tenant": acme.tenant_id or "", "site": site, "ns": ns, "nsd": nsd, "package": package,
        "operation": operation, "rollout": rollout, "alarm": alarm, "user": user,
        "group": group, "token": token, "link": "mpls",
    })  # fmt: skip


def ui_routes(portal: Portal) -> Iterator[tuple[str, str, APIRoute]]:
    """(method, full path, route) of every route under /ui, the included routers' too."""
    app_routes: list[Any] = portal.client.app.routes  # type: ignore[attr-defined]
    for path, route in flattened(app_routes, ""):
        if path.startswith("/ui"):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield method, path, route


def flattened(routes: list[Any], prefix: str) -> Iterator[tuple[str, APIRoute]]:
    """The app's routes with their full paths (FastAPI keeps an included router whole)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            more = getattr(getattr(route, "include_context", None), "prefix", "")
            yield from flattened(included.routes, prefix + more)
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route


def fill_path(template: str, ids: dict[str, str]) -> str:
    """The route's path with acme's objects in it; fails naming a parameter it cannot fill."""
    parts = template.split("/")
    filled = []
    for at, part in enumerate(parts):
        found = PARAM.fullmatch(part)
        if not found:
            filled.append(part)
            continue
        name = found.group(1)
        kind = BY_NAME.get(re.sub(r"[_-]", "", name).lower()) or BY_COLLECTION.get(parts[at - 1])
        assert kind, f"{template}: add {name!r} (an object of acme's) to this walk"
        filled.append(ids[kind])
    return "/".join(filled)


def fields(dependant: Dependant) -> Iterator[Any]:
    """The route's form fields and query parameters, its dependencies' too."""
    yield from dependant.body_params
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from fields(sub)


def sample(route: APIRoute, field: Any) -> Any:
    """A value of the field's type (its first allowed value for an enum or a Literal)."""
    kind = field.field_info.annotation
    if typing.get_origin(kind) is typing.Literal:
        return typing.get_args(kind)[0]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return next(iter(kind)).value
    for python, value in ((bool, "true"), (int, 1), (float, 1.0), (str, "walk")):
        if kind is python:
            return value
    pytest.fail(f"{route.path}: give the walk a value for the field {field.alias!r} ({kind})")


def required(route: APIRoute) -> dict[str, Any]:
    return {
        f.alias: sample(route, f) for f in fields(route.dependant) if f.field_info.is_required()
    }


def store(portal: Portal) -> dict[str, list[str]]:
    """Every row of every table but the volatile ones, as text (what a POST must not change)."""
    factory = portal.client.app.state.sessions  # type: ignore[attr-defined]
    with factory() as session:
        return {
            table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
            for table in Base.metadata.sorted_tables
            if table.name not in VOLATILE
        }


def settled(portal: Portal) -> dict[str, list[str]]:
    """The store once the workers have done what acme's new objects gave them to do (two reads
    SETTLE_S apart alike, longer than the alarm sweep's pace; at most 30 s)."""
    last = store(portal)
    for _ in range(10):
        time.sleep(SETTLE_S)
        now = store(portal)
        if now == last:
            return now
        last = now
    pytest.fail("the store kept changing for 30 s before the walk: it cannot compare it")


def csrf_token(portal: Portal) -> str:
    found = re.search(r'name="csrf-token" content="([^"]*)"', portal.client.get("/ui/").text)
    assert found
    return found.group(1)


@pytest.mark.parametrize("role", ["tenant-admin", "tenant"])
def test_no_portal_page_lets_a_tenant_reach_another_tenants_objects(
    portal: Portal, role: str
) -> None:
    central = Central(portal.client, portal.admin)
    acme = acme_objects(portal, central)
    globex = central.tenant("globex")
    portal.user("gus", "gus-password-123", tenant_id=globex.tenant_id, role=role)
    portal.sign_in("gus@globex", "gus-password-123")
    csrf = csrf_token(portal)
    client = portal.client
    before = settled(portal)
    walked: set[str] = set()
    concrete = [
        (method, template, filled, route)
        for method, template, route in ui_routes(portal)
        if PARAM.search(template)
        for filled in expanded(template)
    ]
    for method, template, filled_template, route in concrete:
        path = fill_path(filled_template, acme.ids)
        made_up = fill_path(filled_template, dict.fromkeys(acme.ids, UNKNOWN_ID))
        sent = required(route) | ({"csrf": csrf} if method != "GET" else {})
        answers = []
        for url in (path, made_up):
            if method == "GET":
                answer = client.get(url, params=sent, follow_redirects=False)
            else:
                answer = client.request(method, url, data=sent, follow_redirects=False)
            answers.append(answer)
        theirs, nobodys = answers
        where = f"{method} {filled_template} as a {role} of globex"
        assert theirs.status_code in (403, 404), (where, theirs.status_code, theirs.text[:500])
        if theirs.status_code == 403:
            assert nobodys.status_code == 403, (
                f"{where}: 403 for acme's, {nobodys.status_code} else"
            )
        shown = theirs.text.replace(path, "")
        leaked = {s for s in acme.secrets if s in shown and s not in path}
        assert not leaked, f"{where} shows acme's {leaked}"
        walked.add(f"{method} {template}")

    after = store(portal)
    changed = sorted(t for t in after if after[t] != before.get(t))
    assert not changed, (
        f"a POST of globex's changed acme's objects in {changed}",
        [(set(after[t]) ^ set(before[t])) for t in changed],
    )
    for expected in (
        "GET /ui/alarms/{alarm_id}",
        "POST /ui/alarms/{alarm_id}/acknowledge",
        "GET /ui/tenants/{tenant_id}",
        "POST /ui/tenants/{tenant_id}/users",
        "POST /ui/tenants/{tenant_id}/users/{user_id}/password",
        "POST /ui/tenants/{tenant_id}/users/{user_id}/delete",
        "POST /ui/operations/{op_id}/{action}",
        "POST /ui/catalog/{kind}/{item_id}/delete",
        "GET /ui/sites/{site_id}/steering",
        "POST /ui/ns/{ns_id}/firewall/apply",
        "GET /ui/designer/{nsd_id}",
    ):
        assert expected in walked
    assert len(walked) >= 30


def test_no_portal_list_shows_another_tenants_names(portal: Portal) -> None:
    central = Central(portal.client, portal.admin)
    acme = acme_objects(portal, central)
    globex = central.tenant("globex")
    portal.user("gus", "gus-password-123", tenant_id=globex.tenant_id, role="tenant-admin")
    portal.sign_in("gus@globex", "gus-password-123")
    listed = 0
    for method, template, route in ui_routes(portal):
        if method != "GET" or PARAM.search(template):
            continue
        for headers in ({}, {"X-Requested-With": "edgewise"}):  # the page and its fragment
            answer = portal.client.get(
                template, params=required(route), headers=headers, follow_redirects=True
            )
            assert answer.status_code < 500, (template, answer.text[:500])
            leaked = {s for s in acme.secrets if s in answer.text}
            assert not leaked, f"{template} shows acme's {leaked} to globex"
        listed += 1
    assert listed >= 4  # /ui/, /ui/login, /ui/alarms, /ui/tenants at least
