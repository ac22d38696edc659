"""The console's pages at fleet scale: time to first render and to interactive in a real browser.

Usage: python benchmarks/web_render.py [--sites 10000] [--loads 30] [--tenants 20]
       [--chromium /usr/bin/chromium]

A fresh SQLite store, migrated and filled in bulk: --sites sites over --tenants tenants (labels
region and tier, both kinds), most enrolled and reporting (some offline, some behind, some
failed), a few active alarms. A real central (`edgewise server`, child process) serves it;
Debian's Chromium (Playwright, headless) signs in as the admin with a password and loads each
page --loads times after one warm-up load: the dashboard, the sites list's first page, and a
filtered sites list (labels, presence, sync state). Per page, p50 and p99 of: the server's
response (navigation timing, request start to response end), first contentful paint, and
time to interactive (navigation start until `html[data-ready]` is set: app.js's `ew:ready`
event). One line per figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from bench_central import Central, console, guarded
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import insert

from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.engine import migrate, open_engine
from edgewise.central.store.tables import (
    DesiredStateRow,
    SiteRow,
    SiteStatusRow,
    TenantRow,
    new_id,
)
from edgewise.lab.errors import LabError
from edgewise.lab.simulator.report import percentile

CHUNK = 2000  # rows per INSERT statement
PASSWORD = "bench-password-1"
PAGES = (
    ("dashboard", "/ui/"),
    ("sites list", "/ui/sites"),
    ("sites filtered", "/ui/sites?label=region%3Deu&presence=online&sync=in-sync"),
)
REGIONS = ("eu", "us", "ap")
# set in the page before its own scripts: when app.js sets `data-ready` (and says `ew:ready`)
WATCH_READY = """
document.addEventListener("ew:ready", () => { window.__ready = performance.now(); });
"""
TIMINGS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return { server: nav.responseEnd - nav.requestStart, fcp: paint ? paint.startTime : null,
           ready: window.__ready ?? null, bytes: nav.transferSize };
}"""


def chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def site_rows(n: int, site_id: str, tenant: str, now: datetime) -> tuple[dict[str, Any], ...]:
    """The site's row and, when enrolled (9 in 10), its status and desired state: 1 in 20
    offline, 1 in 15 failed (degraded), 1 in 10 a revision behind."""
    labels = {"region": REGIONS[n % 3], "tier": "gold" if n % 4 == 0 else "silver"}
    enrolled = n % 10 != 9
    seen = now - (timedelta(hours=2) if n % 20 == 3 else timedelta(seconds=5))
    site: dict[str, Any] = {"id": site_id, "tenant_id": tenant, "name": f"site-{n:05d}",
            "kind": "cloud" if n % 8 == 0 else "on-premise", "labels": labels,
            "compute_nodes": 1, "slots_per_node": 2, "created_at": now,
            "enrolled_at": now - timedelta(days=1) if enrolled else None,
            "cert_serial": f"{n + 1:x}" if enrolled else None}  # fmt: skip
    if not enrolled:
        return (site,)
    desired = 2 if n % 10 == 4 else 1
    status = {"site_id": site["id"], "applied_revision": 1,
              "state": "degraded" if n % 15 == 7 else "converged", "body": {},
              "reported_at": seen, "last_seen_at": seen}  # fmt: skip
    return site, status, {"site_id": site["id"], "revision": desired, "document": {},
                          "updated_at": now}  # fmt: skip


def populate(url: str, sites: int, tenants: int) -> None:
    engine = open_engine(url)
    try:
        migrate(engine)
        now = datetime.now(UTC)
        tenant_ids = [new_id() for _ in range(tenants)]
        made = [site_rows(n, new_id(), tenant_ids[n % tenants], now) for n in range(sites)]
        alarms = [
            {"id": new_id(), "kind": "SITE_OFFLINE", "component": f"site:{rows[0]['id']}",
             "active_key": f"SITE_OFFLINE|site:{rows[0]['id']}",
             "tenant_id": rows[0]["tenant_id"], "site_id": rows[0]["id"],
             "managed_object_type": "SITE", "managed_object_id": rows[0]["id"],
             "severity": "CRITICAL", "event_type": "COMMUNICATIONS_ALARM",
             "probable_cause": "site offline", "fault_type": "SITE_OFFLINE",
             "fault_details": [], "details": {}, "event_time": now, "raised_at": now,
             "ack_state": "UNACKNOWLEDGED", "is_root_cause": True}
            for n, rows in enumerate(made) if n % 20 == 3
        ]  # fmt: skip
        with engine.begin() as connection:
            connection.execute(insert(TenantRow), [
                {"id": t, "name": f"tenant-{i:02d}", "description": "", "created_at": now}
                for i, t in enumerate(tenant_ids)
            ])  # fmt: skip
            for table, rows in (
                (SiteRow, [r[0] for r in made]),
                (SiteStatusRow, [r[1] for r in made if len(r) > 1]),
                (DesiredStateRow, [r[2] for r in made if len(r) > 1]),
                (AlarmRow, alarms),
            ):
                for part in chunks(rows):
                    connection.execute(insert(table), part)
    finally:
        engine.dispose()


def set_password(central: Central) -> str:
    """The admin's portal password (set through the API with the admin token); its login."""
    headers = {"Authorization": f"Bearer {central.token()}"}
    with httpx.Client(base_url=central.url, headers=headers, timeout=30) as api:
        me = api.get("api/v1/whoami").json()
        answer = api.put(f"api/v1/users/{me['userId']}/password", json={"password": PASSWORD})
        if answer.status_code != 204:
            raise LabError(f"setting the admin's password answered {answer.status_code}")
        return str(me["userName"])


def load(page: Page, url: str) -> dict[str, float]:
    answer = page.goto(url, wait_until="load")
    if answer is None or answer.status != 200 or page.url != url:
        raise LabError(f"{url} answered {answer.status if answer else 'nothing'} at {page.url}")
    page.wait_for_selector("html[data-ready]", state="attached")
    for _ in range(200):  # the first paint may come after `load`: up to 10 s
        timings: dict[str, float] = page.evaluate(TIMINGS)
        if timings["fcp"] is not None and timings["ready"] is not None:
            return timings
        page.wait_for_timeout(50)  # (not wait_for_function: its polling evaluates a string,
        # which the pages' CSP refuses)
    raise LabError(f"{url}: no first contentful paint or no data-ready within 10 s")


def measure(args: argparse.Namespace, scratch: Path) -> dict[str, list[dict[str, float]]]:
    (scratch / "central").mkdir()
    started = time.monotonic()
    populate(f"sqlite:///{scratch / 'central' / 'edgewise.db'}", args.sites, args.tenants)
    console.print(f"store filled in {time.monotonic() - started:.1f} s: {args.sites} sites")
    central = Central(scratch / "central")
    found: dict[str, list[dict[str, float]]] = {name: [] for name, _ in PAGES}
    try:
        central.start()
        login = set_password(central)
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=args.chromium, headless=True)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.add_init_script(WATCH_READY)
                page = context.new_page()
                base = central.url.rstrip("/")
                page.goto(f"{base}/ui/login")
                page.get_by_label("User").fill(login)
                page.get_by_label("Password").fill(PASSWORD)
                with page.expect_navigation(url=f"{base}/ui/"):  # the login page is ready too
                    page.get_by_role("button", name="Sign in").click()
                page.wait_for_selector("html[data-ready]", state="attached")
                for name, path in PAGES:
                    load(page, base + path)  # warm-up: the store's pages, the query plans
                    found[name] = [load(page, base + path) for _ in range(args.loads)]
            finally:
                browser.close()
        if central.log_problems()["Traceback"]:
            console.print(f"[red]the central logged tracebacks: {central.log_path}")
    finally:
        central.stop()
    return found


def show(args: argparse.Namespace, found: dict[str, list[dict[str, float]]]) -> None:
    for name, loads in found.items():
        label = f"[{args.sites} sites, {name}]"
        for key, what in (("server", "server response"), ("fcp", "first contentful paint"),
                          ("ready", "time to interactive")):  # fmt: skip
            values = sorted(v[key] for v in loads)
            print(f"{label} {what} p50/p99: {statistics.median(values):.0f} / "
                  f"{percentile(values, 0.99):.0f} ms ({len(values)} loads)")  # fmt: skip
        print(f"{label} page size: {int(statistics.median(v['bytes'] for v in loads))} bytes")


def run(args: argparse.Namespace) -> int:
    if args.loads < 1:
        raise LabError("--loads: at least 1")
    if not Path(args.chromium).exists():
        raise LabError(f"--chromium: no browser at {args.chromium}")
    with tempfile.TemporaryDirectory(prefix="ewbench-web-") as scratch:
        found = measure(args, Path(scratch))
    show(args, found)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--loads", type=int, default=30)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    return guarded(run, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
