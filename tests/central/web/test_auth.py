"""Signing in to the portals: passwords, sessions, CSRF, expiry, throttling; the session cookie
is a credential for the API too, with the same scoping and a CSRF header on writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from edgewise.central.store.tables import UserRow
from edgewise.central.store.web_tables import WebSessionRow
from tests.central.web.conftest import ADMIN_PASSWORD, Portal, csrf_of


def test_a_page_without_a_session_sends_the_browser_to_sign_in(portal: Portal) -> None:
    answer = portal.client.get("/ui/?from=test", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/login?next=%2Fui%2F%3Ffrom%3Dtest"


def test_sign_in_lands_on_the_page_asked_for_and_sign_out_ends_the_session(portal: Portal) -> None:
    client = portal.client
    answer = client.post(
        "/ui/login",
        data={"login": "admin", "password": ADMIN_PASSWORD, "next": "/ui/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    home = client.get("/ui/")
    assert home.status_code == 200
    assert "Signed in as admin" in home.text
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert home.headers["cache-control"] == "no-store"
    csrf = csrf_of(home.text)
    refused = client.post("/ui/logout", data={"csrf": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    assert "security token" in refused.text
    out = client.post("/ui/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/ui/", follow_redirects=False).status_code == 303
    with portal.client.app.state.sessions() as session:  # type: ignore[attr-defined]
        assert session.scalars(select(WebSessionRow)).all() == []


def test_a_wrong_password_or_user_gets_the_same_answer_and_no_session(portal: Portal) -> None:
    for login, password in (("admin", "wrong-password-0"), ("nobody", ADMIN_PASSWORD)):
        answer = portal.client.post("/ui/login", data={"login": login, "password": password})
        assert answer.status_code == 401
        assert "The user name or the password is wrong." in answer.text
        assert "set-cookie" not in answer.headers or "edgewise_session" not in answer.headers.get(
            "set-cookie", ""
        )


def test_sign_ins_failing_too_often_are_refused_for_a_while(portal: Portal) -> None:
    statuses = [
        portal.client.post("/ui/login", data={"login": "admin", "password": "x" * 12}).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[-1] == 429
    late = portal.client.post("/ui/login", data={"login": "admin", "password": ADMIN_PASSWORD})
    assert late.status_code == 429
    assert "Too many failed sign-ins" in late.text


def test_a_customer_signs_in_as_name_at_tenant(portal: Portal) -> None:
    tenant = portal.client.post(
        "/api/v1/tenants", json={"name": "acme"}, headers=portal.admin.headers
    ).json()
    portal.user("alice", "alice-password-1", tenant_id=tenant["id"], role="tenant")
    wrong_tenant = portal.client.post(
        "/ui/login", data={"login": "alice", "password": "alice-password-1"}
    )
    assert wrong_tenant.status_code == 401  # "alice" alone names an operator
    portal.sign_in("alice@acme", "alice-password-1")
    page = portal.client.get("/ui/").text
    assert "My sites" in page
    assert "Tenants and users" not in page


def test_an_idle_or_expired_session_ends(portal: Portal) -> None:
    portal.sign_in("admin", ADMIN_PASSWORD)
    factory = portal.client.app.state.sessions  # type: ignore[attr-defined]
    with factory.begin() as session:
        session.execute(
            update(WebSessionRow).values(last_seen_at=datetime.now(UTC) - timedelta(hours=1))
        )
    answer = portal.client.get("/ui/", follow_redirects=False)
    assert answer.status_code == 303
    assert "reason=your+session+has+ended" in answer.headers["location"]
    portal.sign_in("admin", ADMIN_PASSWORD)
    with factory.begin() as session:
        session.execute(update(WebSessionRow).values(expires_at=datetime.now(UTC)))
    assert portal.client.get("/ui/", follow_redirects=False).status_code == 303


def test_a_changed_password_ends_the_users_sessions(portal: Portal) -> None:
    portal.sign_in("admin", ADMIN_PASSWORD)
    factory = portal.client.app.state.sessions  # type: ignore[attr-defined]
    with factory() as session:
        admin_id = session.scalar(select(UserRow.id).where(UserRow.name == "admin"))
    answer = portal.client.put(
        f"/api/v1/users/{admin_id}/password",
        json={"password": "another-password-2"},
        headers=portal.admin.headers,
    )
    assert answer.status_code == 204
    assert portal.client.get("/ui/", follow_redirects=False).status_code == 303


def test_a_short_password_is_refused_naming_the_field(portal: Portal) -> None:
    answer = portal.client.put(
        f"/api/v1/users/{portal.admin.user_id}/password",
        json={"password": "short"},
        headers=portal.admin.headers,
    )
    assert answer.status_code == 400  # the API's answer to a body that fails its schema
    assert answer.json()["problems"][0]["where"] == "password"


def test_the_session_cookie_calls_the_api_with_a_csrf_header_on_writes(portal: Portal) -> None:
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    client = portal.client
    assert client.get("/api/v1/whoami").json()["userName"] == "admin"
    refused = client.post("/api/v1/tenants", json={"name": "t1"})
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]
    made = client.post("/api/v1/tenants", json={"name": "t1"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text


def test_a_customer_cookie_sees_only_its_tenant_through_the_api(portal: Portal) -> None:
    headers = portal.admin.headers
    acme = portal.client.post("/api/v1/tenants", json={"name": "acme"}, headers=headers).json()
    other = portal.client.post("/api/v1/tenants", json={"name": "other"}, headers=headers).json()
    portal.user("bob", "bob-password-123", tenant_id=acme["id"], role="tenant")
    portal.sign_in("bob@acme", "bob-password-123")
    assert portal.client.get(f"/api/v1/tenants/{other['id']}").status_code == 404
    assert portal.client.get(f"/api/v1/tenants/{acme['id']}").status_code == 200


def test_sign_in_goes_back_only_to_a_portal_page(portal: Portal) -> None:
    for target in ("https://evil.example/", "//evil.example/ui", "/api/v1/tenants"):
        answer = portal.client.post(
            "/ui/login",
            data={"login": "admin", "password": ADMIN_PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/ui/", target
