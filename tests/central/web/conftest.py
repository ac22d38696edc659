"""Fixtures of the portals' tests.

- `portal`: the central's app with the portals (in-process, embedded SQLite, workers beside it),
  its admin with a password, and `sign_in()` for a TestClient (fast tests of pages and rules);
- `live`: a real central process (`edgewise server`) for the browser, its admin signed in by
  password (one per test session and xdist worker);
- `browser`: Debian's Chromium, headless, driven by Playwright (no browser download), per
  test module (an open Playwright keeps an event loop running);
- `page`: a new browser context and page per test, and `shot(page, name)`, which saves a
  screenshot under test-output/web/<test>/ (look at them: CI keeps that folder).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from edgewise.central.api.app import create_app  # (first: the orchestrator's import order)
from edgewise.central.config import CentralSettings
from edgewise.central.runtime import CentralRuntime
from edgewise.central.web.portal import install_web
from edgewise.central.workers import Workers
from tests.central.api.conftest import LOOPBACK, Caller
from tests.integration.harness import Central as LiveCentral
from tests.integration.harness import CentralProcess

ADMIN_PASSWORD = "operator-password-1"
CHROMIUM = os.environ.get("EDGEWISE_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[3] / "test-output" / "web"


@dataclass
class Portal:
    client: TestClient
    admin: Caller

    def sign_in(self, login: str, password: str) -> str:
        """Signs `client` in (its cookie jar keeps the session); the page's CSRF token."""
        answer = self.client.post(
            "/ui/login", data={"login": login, "password": password}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        return csrf_of(self.client.get("/ui/").text)

    def user(self, name: str, password: str, *, tenant_id: str | None, role: str) -> str:
        """A new user with a portal password; its id."""
        body = {"name": name, "role": role} | ({"tenantId": tenant_id} if tenant_id else {})
        made = self.client.post("/api/v1/users", json=body, headers=self.admin.headers)
        assert made.status_code == 201, made.text
        user_id: str = made.json()["id"]
        answer = self.client.put(
            f"/api/v1/users/{user_id}/password",
            json={"password": password},
            headers=self.admin.headers,
        )
        assert answer.status_code == 204, answer.text
        return user_id


def csrf_of(page: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', page)
    assert found, "the page carries no CSRF token"
    return found.group(1)


@contextmanager
def portal_app(settings: CentralSettings) -> Iterator[Portal]:
    runtime = CentralRuntime.open(settings)
    try:
        app = create_app(settings, runtime)
        install_web(app)
        with TestClient(app) as client:
            assert client.portal is not None
            workers = client.portal.start_task_soon(Workers(runtime).run)
            token = settings.admin_token_file.read_text().strip()
            headers = {"Authorization": f"Bearer {token}"}
            me = client.get("/api/v1/whoami", headers=headers).json()
            answer = client.put(
                f"/api/v1/users/{me['userId']}/password",
                json={"password": ADMIN_PASSWORD},
                headers=headers,
            )
            assert answer.status_code == 204, answer.text
            try:
                yield Portal(client, Caller(headers, None, me["userId"]))
            finally:
                workers.cancel()
    finally:
        runtime.close()


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    settings = CentralSettings(data_dir=tmp_path, page_size=50, fetch_allowed=LOOPBACK)
    with portal_app(settings) as running:
        yield running


@dataclass
class Live:
    """A real central process for the browser: its base URL, an admin API client, and the
    admin's portal sign-in."""

    url: str
    api: httpx.Client
    central: LiveCentral
    process: CentralProcess
    admin_login: str = "admin"
    admin_password: str = ADMIN_PASSWORD


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    process = CentralProcess(tmp_path_factory.mktemp("portal-central"))
    with process.running() as central:
        api = central.api
        me = api.get("api/v1/whoami").json()
        answer = api.put(f"api/v1/users/{me['userId']}/password", json={"password": ADMIN_PASSWORD})
        assert answer.status_code == 204, answer.text
        yield Live(process.url.rstrip("/"), api, central, process, admin_login=me["userName"])


# Module-scoped, never longer: Playwright's sync API keeps an event loop running while it is
# open, and a test of another module on the same xdist worker (an asyncio one) would find it.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: ./run test installs Debian's chromium")
    launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    try:
        yield launched
    finally:
        launched.close()


Shot = Callable[[Page, str], Path]

# What a screen reader and a keyboard need of every page a browser test looks at: a language, a
# title, one main landmark and one h1, a name for every visible field, button, link and table,
# text for every image. `shot()` runs it before each screenshot; a page failing it fails its test.
ACCESSIBLE = """() => {
  const problems = [];
  const shown = (el) =>
    el.checkVisibility({ contentVisibilityAuto: true, visibilityProperty: true });
  const named = (el) => (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") ||
                         el.getAttribute("title") || "").trim();
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden" || !shown(el)) continue;
    if (!(el.labels && el.labels.length) && !named(el))
      problems.push(`a ${el.tagName.toLowerCase()} without a label: ${el.outerHTML.slice(0, 120)}`);
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (shown(el) && !(el.textContent || "").trim() && !named(el))
      problems.push(`a ${el.tagName.toLowerCase()} without a name: ${el.outerHTML.slice(0, 120)}`);
  }
  for (const el of document.querySelectorAll("img")) {
    if (!el.hasAttribute("alt"))
      problems.push(`an image without alt: ${el.outerHTML.slice(0, 120)}`);
  }
  for (const el of document.querySelectorAll("table")) {
    if (shown(el) && !el.querySelector("caption") && !named(el))
      problems.push(`a table without a caption or a label: ${el.outerHTML.slice(0, 120)}`);
  }
  if (!document.documentElement.lang) problems.push("no lang on <html>");
  if (!document.title.trim()) problems.push("no <title>");
  if (document.querySelectorAll("main").length !== 1) problems.push("not one <main>");
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) problems.push(`${h1} h1 headings`);
  return problems;
}"""


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """`shot(page, name)`: a full-page screenshot in test-output/web/<test>/NN-name.png."""
    folder = SHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    taken = 0

    def take(page: Page, name: str) -> Path:
        nonlocal taken
        problems = page.evaluate(ACCESSIBLE)
        assert not problems, f"{name} ({page.url}) is not accessible: {problems}"
        taken += 1
        path = folder / f"{taken:02d}-{name}.png"
        for attempt in range(3):  # Chromium under load now and then cannot capture at once
            try:
                page.screenshot(path=str(path), full_page=True)
                break
            except PlaywrightError:
                if attempt == 2:
                    raise
                page.wait_for_timeout(500)
        return path

    return take


def sign_in_browser(page: Page, base: str, login: str, password: str) -> None:
    """Signs the page in through the sign-in form; waits for the landing page to be ready."""
    page.goto(f"{base}/ui/login")
    page.get_by_label("User").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/ui/login" not in url)  # (the sign-in page is ready too)
    page.wait_for_selector("html[data-ready]")
