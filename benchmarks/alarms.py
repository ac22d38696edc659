"""Alarms: how soon the central raises them, and no storm when many sites go at once.

Usage: python benchmarks/alarms.py [--sites 1000] [--links 5] [--timeout S]
       python benchmarks/alarms.py --real N   (root: real sites in namespaces, N runs)

A fresh central (child process, SQLite) with short poll holds (EDGEWISE_POLL_HOLD=1,2) and
EDGEWISE_ALARM_OFFLINE_HOLDS=1: a site is offline once it has not polled for 1 hold of 2 s plus
the 5 s the channel takes to write "heard from" marks, i.e. 7 s. An nsfm/v1 subscription (the
provider's: every alarm) calls back a loopback HTTP server in this process, which counts what
arrives (EDGEWISE_FETCH_ALLOW lets the central reach loopback). Measured:
- link down: a probe site (enrolled with the real CLI) reports its link down over the real
  mTLS channel, --links times (each followed by the link back up); from the report's POST to
  the LINK_DOWN alarm in the store and in the API (`GET /nsfm/v1/alarms`) (p50, max);
- N sites offline at once: N simulated sites (`edgewise simulate`'s workers: real site
  controllers, sim driver, real channel) polling, then their worker processes killed at once.
  From the kill to each site's SITE_OFFLINE alarm in the store and in the API (p50, max): the
  threshold, 7 s from the site's last "heard from" mark (written every 5 s: up to 5 s after its
  last poll), plus the sweep's pace (at most every 2 s), so 7-14 s by design; and the time
  until all N are raised; how many alarms of each kind the phase raised (exactly N, all roots,
  is no storm); notifications the phase wrote to the outbox, how many of them the subscriber
  received, and when the last arrived; the central's CPU over the phase.
The store is read read-only from outside the central, as an operator's tool would; the API is
read as an operator's client would, every page (SOL013's `Link: rel="next"`).

`--real N` measures instead, N times, the end-to-end scenario of tests/integration/
alarms_real.py: a real linux site controller in namespaces, a WAN link's carrier lost, a
process VNF killed (its restart failing, then mended), the controller SIGKILLed and started
again; from each fault to its alarm raised or cleared in GET /nsfm/v1/alarms (p50, max).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from bench_central import Central, console, cpu_seconds, guarded

from edgewise.lab.errors import LabError, PhaseTimeout
from edgewise.lab.simulator.fleet import Fleet, default_workers
from edgewise.lab.simulator.report import progress_bars
from edgewise.lab.simulator.simulation import Simulation
from edgewise.site.journal import Journal, OutboxItem
from edgewise.site.uplink import Uplink

ENV = {
    "EDGEWISE_POLL_HOLD": "1,2",
    "EDGEWISE_ALARM_OFFLINE_HOLDS": "1",
    "EDGEWISE_FETCH_ALLOW": "127.0.0.0/8",  # the subscriber's callback is on loopback
}
THRESHOLD_S = 1 * 2 + 5  # offline_holds x the longest hold + the marks' slack
POLL_S = 0.02  # how often the store and the API are read while waiting for an alarm
API_POLL_S = 0.1  # how often the API's list is read while N sites go offline
ALARMS = "nsfm/v1/alarms"


@dataclass
class Figures:
    sites: int
    link_down: list[float] = field(default_factory=list)  # POST -> alarm in the store, s
    link_down_api: list[float] = field(default_factory=list)  # POST -> alarm in the API, s
    offline: list[float] = field(default_factory=list)  # stop -> each site's alarm, s
    offline_api: list[float] = field(default_factory=list)  # stop -> seen in the API, s
    all_raised_s: float = 0.0
    all_listed_s: float = 0.0
    list_read_s: float = 0.0  # one read of the whole active SITE_OFFLINE list, once all are in
    list_pages: int = 0
    kinds: dict[str, int] = field(default_factory=dict)  # alarms the phase raised, by kind
    roots: int = 0
    outbox: int = 0  # notifications the phase wrote
    delivered: int = 0  # of those, received by the subscriber
    offline_heard: int = 0  # AlarmNotifications of the phase's sites' SITE_OFFLINE received
    last_delivered_s: float = 0.0  # stop -> the last of them received
    cpu_s: float = 0.0


@dataclass
class Subscriber:
    """A SOL005 subscriber on loopback: answers the endpoint test (GET 204), keeps the id,
    arrival (monotonic) and body of every notification POSTed to it."""

    arrivals: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(204)
                self.end_headers()

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with subscriber.lock:
                    subscriber.arrivals.append((time.monotonic(), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base name
                pass

        return Handler

    def since(self, moment: float) -> list[tuple[float, dict[str, Any]]]:
        with self.lock:
            return [(at, body) for at, body in self.arrivals if at >= moment]


class Listener(ThreadingHTTPServer):
    request_queue_size = 1024  # the central POSTs a batch of up to 200 at once; the default 5
    daemon_threads = True  # would refuse most of them


@contextlib.contextmanager
def subscriber_server() -> Iterator[tuple[Subscriber, str]]:
    subscriber = Subscriber()
    server = Listener(("127.0.0.1", 0), subscriber.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield subscriber, f"http://127.0.0.1:{server.server_address[1]}/notify"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def store(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        yield connection
    finally:
        connection.close()


def moment(text: str) -> datetime:
    """A time as SQLite keeps it (naive UTC)."""
    found = datetime.fromisoformat(text)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def enroll_probe(api: httpx.Client, tenant: str, data_dir: Path) -> str:
    made = api.post("api/v1/sites", json={"name": "probe", "kind": "on-premise",
                                          "tenantId": tenant})  # fmt: skip
    if made.status_code != 201:
        raise LabError(f"creating the probe site failed: {made.text[:200]}")
    info = api.get("api/v1/central").json()
    ca_file = data_dir.parent / "ca.pem"
    ca_file.write_text(info["caCertificate"])
    done = subprocess.run(
        [sys.executable, "-m", "edgewise", "site-controller", "enroll", "--central",
         info["southboundUrl"], "--token", made.json()["enrollmentToken"]["token"],
         "--data-dir", str(data_dir), "--ca-file", str(ca_file)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise LabError(f"enrolling the probe site failed: {done.stderr[-300:]}")
    site_id: str = made.json()["id"]
    return site_id


async def link_down(
    central: Central, data_dir: Path, site_id: str, times: int
) -> tuple[list[float], list[float]]:
    """Report the link down (and up again) `times` times; each: POST -> alarm in the store,
    and POST -> alarm in the API."""
    with Journal.open(data_dir / "journal.db") as journal:
        identity = journal.identity()
    if identity is None:
        raise LabError("the probe site has no identity")
    uplink = Uplink(identity)
    in_store: list[float] = []
    in_api: list[float] = []
    headers = {"Authorization": f"Bearer {central.token()}"}
    async with httpx.AsyncClient(base_url=central.url, headers=headers, timeout=30) as api:
        try:
            for _ in range(times):
                for old, state in (("up", "down"), ("down", "up")):
                    body: dict[str, Any] = {
                        "event": "link-state", "link": "wan0", "from": old, "to": state,
                        "reason": "benchmark", "figures": {},
                    }  # fmt: skip
                    at = datetime.now(UTC).isoformat()
                    item = OutboxItem(str(uuid.uuid4()), "event", at, body)
                    want = 1 if state == "down" else 0
                    started = time.monotonic()
                    await uplink.send_reports([item])
                    stored, listed = await both_seen(
                        functools.partial(has_link_alarms, central.data_dir, site_id, want),
                        functools.partial(listed_link_alarms, api, site_id, want),
                        started,
                        10,
                    )
                    if state == "down":
                        in_store.append(stored)
                        in_api.append(listed)
        finally:
            await uplink.close()
    return in_store, in_api


async def both_seen(
    stored: Callable[[], bool],
    listed: Callable[[], Awaitable[bool]],
    started: float,
    bound: float,
) -> tuple[float, float]:
    """Polls the store and the API until both show it; the time each first did, from `started`."""
    seen: dict[str, float] = {}
    deadline = started + bound
    while time.monotonic() < deadline:
        if "store" not in seen and stored():
            seen["store"] = time.monotonic() - started
        if "api" not in seen and await listed():
            seen["api"] = time.monotonic() - started
        if len(seen) == 2:
            return seen["store"], seen["api"]
        await asyncio.sleep(POLL_S)
    raise LabError(f"not seen within {bound:.0f} s (seen in: {', '.join(seen) or 'neither'})")


async def listed_link_alarms(api: httpx.AsyncClient, site_id: str, count: int) -> bool:
    query = {"kind": "LINK_DOWN", "siteId": site_id, "active": "true"}
    return len(await listed(api, query)) == count


async def listed(api: httpx.AsyncClient, query: dict[str, str]) -> list[dict[str, Any]]:
    return [alarm async for _, alarm in pages(api, query)]


async def pages(
    api: httpx.AsyncClient, query: dict[str, str]
) -> AsyncIterator[tuple[float, dict[str, Any]]]:
    """Every alarm of `GET /nsfm/v1/alarms` with `query`, page by page (SOL013's Link
    rel="next"), each with the moment (monotonic) its page arrived."""
    url: str | None = ALARMS
    params: dict[str, str] | None = query
    for _ in range(10_000):  # bounded: one page each
        if url is None:
            return
        answer = await api.get(url, params=params)
        arrived = time.monotonic()
        if answer.status_code != 200:
            raise LabError(f"GET /{ALARMS} answered {answer.status_code}: {answer.text[:200]}")
        for alarm in answer.json():
            yield arrived, alarm
        url, params = answer.links.get("next", {}).get("url"), None
    raise LabError(f"GET /{ALARMS}: more than 10,000 pages")


def has_link_alarms(data_dir: Path, site_id: str, count: int) -> bool:
    with store(data_dir / "edgewise.db") as db:
        row = db.execute(
            "SELECT count(*) FROM alarms WHERE kind = 'LINK_DOWN' AND site_id = ? "
            "AND active_key IS NOT NULL",
            (site_id,),
        ).fetchone()
    return int(row[0]) == count


async def storm(
    central: Central, sites: int, bound: float, figures: Figures, subscriber: Subscriber
) -> None:
    fleet = Fleet(central.data_dir.parent)
    headers = {"Authorization": f"Bearer {central.token()}"}
    async with httpx.AsyncClient(base_url=central.url, headers=headers, timeout=300) as api:
        try:
            with progress_bars(console) as progress:
                simulation = Simulation(api, progress, fleet, sites=sites,
                                        workers=default_workers(sites), timeout=bound)  # fmt: skip
                await simulation.setup()
            ours = set(simulation.site_ids)
            await settled(central.data_dir, ours, bound)
        except BaseException:
            await fleet.stop()
            raise
        cpu_before = cpu_seconds(central.pid)
        silent_at = datetime.now(UTC)
        stopped = time.monotonic()
        for process in fleet.processes:  # our own workers: every site silent at this moment
            process.kill()
        await fleet.stop()
        deadline = stopped + THRESHOLD_S + bound
        raised: dict[str, datetime] = {}
        shown: dict[str, float] = {}  # site -> seconds from the stop to its alarm in the API
        query = {"kind": "SITE_OFFLINE", "active": "true"}
        with progress_bars(console) as progress:
            task = progress.add_task("SITE_OFFLINE raised", total=sites)
            while len(shown) < sites and time.monotonic() < deadline:
                await asyncio.sleep(API_POLL_S)
                if len(raised) < sites:
                    raised = offline_alarms(central.data_dir, ours)
                    if len(raised) == sites:
                        figures.all_raised_s = time.monotonic() - stopped
                async for at, alarm in pages(api, query):
                    if alarm.get("siteId") in ours:
                        shown.setdefault(alarm["siteId"], at - stopped)
                progress.update(task, completed=len(shown))
        figures.all_listed_s = time.monotonic() - stopped
        figures.cpu_s = cpu_seconds(central.pid) - cpu_before
        if len(raised) < sites or len(shown) < sites:
            raise PhaseTimeout(f"{len(raised)}/{sites} SITE_OFFLINE in the store, "
                               f"{len(shown)}/{sites} in the API within the bound",
                               min(len(raised), len(shown)), sites)  # fmt: skip
        figures.offline = [(at - silent_at).total_seconds() for at in raised.values()]
        figures.offline_api = list(shown.values())
        began = time.monotonic()
        arrivals = {at async for at, _ in pages(api, query)}
        figures.list_read_s, figures.list_pages = time.monotonic() - began, len(arrivals)
        since = silent_at.replace(tzinfo=None).isoformat(sep=" ")
        with store(central.data_dir / "edgewise.db") as db:
            figures.kinds = dict(db.execute(
                "SELECT kind, count(*) FROM alarms WHERE raised_at >= ? GROUP BY kind", (since,)
            ).fetchall())  # fmt: skip
            figures.roots = db.execute(
                "SELECT count(*) FROM alarms WHERE raised_at >= ? AND is_root_cause", (since,)
            ).fetchone()[0]
            written = {row[0] for row in db.execute(
                "SELECT id FROM notifications WHERE created_at >= ?", (since,)
            )}  # fmt: skip
        figures.outbox = len(written)
        await delivered(subscriber, written, stopped, ours, deadline + bound, figures)


async def delivered(
    subscriber: Subscriber,
    written: set[str],
    stopped: float,
    sites: set[str],
    deadline: float,
    figures: Figures,
) -> None:
    """Waits (to `deadline`) until the subscriber has received every notification written;
    the count, those of the sites' SITE_OFFLINE, and the last arrival from the stop."""
    heard: list[tuple[float, dict[str, Any]]] = []
    while time.monotonic() < deadline:
        heard = [(at, body) for at, body in subscriber.since(stopped) if body.get("id") in written]
        if len({body["id"] for _, body in heard}) >= len(written):
            break
        await asyncio.sleep(API_POLL_S)
    figures.delivered = len({body["id"] for _, body in heard})
    figures.offline_heard = sum(
        1
        for _, body in heard
        if body.get("notificationType") == "AlarmNotification"
        and body.get("alarm", {}).get("kind") == "SITE_OFFLINE"
        and body.get("alarm", {}).get("siteId") in sites
    )
    figures.last_delivered_s = max((at for at, _ in heard), default=stopped) - stopped


async def settled(data_dir: Path, sites: set[str], bound: float) -> None:
    """Waits until the setup's own alarms are gone: sites enrolled a while before their
    controllers start are offline meanwhile (a SITE_OFFLINE raised, then cleared at their first
    poll), and their notifications delivered, so the phase starts clean."""
    deadline = time.monotonic() + bound
    pending = active = -1
    while time.monotonic() < deadline:
        active = len(offline_alarms(data_dir, sites))
        with store(data_dir / "edgewise.db") as db:
            pending = db.execute(
                "SELECT count(*) FROM notifications WHERE state = 'PENDING'"
            ).fetchone()[0]
        if active == 0 and pending == 0:
            return
        await asyncio.sleep(0.2)
    raise LabError(f"the setup did not settle within {bound:.0f} s: {active} SITE_OFFLINE of "
                   f"its sites active, {pending} notifications pending")  # fmt: skip


def offline_alarms(data_dir: Path, sites: set[str]) -> dict[str, datetime]:
    with store(data_dir / "edgewise.db") as db:
        rows = db.execute(
            "SELECT site_id, raised_at FROM alarms WHERE kind = 'SITE_OFFLINE' "
            "AND active_key IS NOT NULL"
        ).fetchall()
    return {site: moment(at) for site, at in rows if site in sites}


def measure(sites: int, links: int, bound: float) -> Figures:
    figures = Figures(sites)
    with (
        tempfile.TemporaryDirectory(prefix="ewbench-alarms-") as scratch,
        subscriber_server() as (subscriber, callback),
    ):
        central = Central(Path(scratch) / "central", env=ENV)
        try:
            central.start()
            console.print(f"central pid {central.pid} at {central.url}; {sites} sites")
            headers = {"Authorization": f"Bearer {central.token()}"}
            with httpx.Client(base_url=central.url, headers=headers, timeout=60) as api:
                subscribed = api.post("nsfm/v1/subscriptions", json={"callbackUri": callback})
                if subscribed.status_code != 201:
                    raise LabError(f"the nsfm subscription was refused: {subscribed.text[:300]}")
                tenant = api.post("api/v1/tenants", json={"name": "probe"}).json()["id"]
                probe_dir = Path(scratch) / "probe"
                probe = enroll_probe(api, tenant, probe_dir)
                figures.link_down, figures.link_down_api = asyncio.run(
                    link_down(central, probe_dir, probe, links)
                )
                api.delete(f"api/v1/sites/{probe}")  # it would go offline during the storm
            asyncio.run(storm(central, sites, bound, figures, subscriber))
            problems = central.log_problems()
            if problems["Traceback"]:
                console.print(f"[red]the central logged {problems['Traceback']} tracebacks: "
                              f"{central.log_path}")  # fmt: skip
        finally:
            central.stop()
    return figures


def spread(values: list[float]) -> str:
    if not values:
        return "- / -"
    return f"{statistics.median(values):.2f} / {max(values):.2f}"


def show(f: Figures) -> None:
    n = f.sites
    print(f"link down -> LINK_DOWN in the store p50/max: {spread(f.link_down)} s "
          f"({len(f.link_down)} reports)")  # fmt: skip
    print(f"link down -> LINK_DOWN in GET /nsfm/v1/alarms p50/max: {spread(f.link_down_api)} s "
          f"({len(f.link_down_api)} reports)")  # fmt: skip
    print(f"[{n} sites] silent -> SITE_OFFLINE in the store p50/max: {spread(f.offline)} s "
          f"(by design {THRESHOLD_S}-{THRESHOLD_S + 7} s; all {len(f.offline)} seen within "
          f"{f.all_raised_s:.2f} s)")  # fmt: skip
    print(f"[{n} sites] silent -> SITE_OFFLINE in GET /nsfm/v1/alarms p50/max: "
          f"{spread(f.offline_api)} s (the list read page by page, again {API_POLL_S:g} s after "
          f"each read; all {len(f.offline_api)} listed within {f.all_listed_s:.2f} s)")  # fmt: skip
    print(f"[{n} sites] one read of the active SITE_OFFLINE list afterwards: "
          f"{f.list_read_s:.2f} s ({f.list_pages} pages)")  # fmt: skip
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(f.kinds.items())) or "none"
    print(f"[{n} sites] alarms raised by the phase: {sum(f.kinds.values())} ({kinds}); "
          f"roots: {f.roots}")  # fmt: skip
    print(f"[{n} sites] notifications written to the outbox: {f.outbox}; delivered to the "
          f"subscriber: {f.delivered} ({f.offline_heard} AlarmNotifications of SITE_OFFLINE); "
          f"the last {f.last_delivered_s:.2f} s after the silence")  # fmt: skip
    print(f"[{n} sites] central CPU from the silence to the last alarm: {f.cpu_s:.2f} s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--links", type=int, default=5, help="link down reports to time")
    parser.add_argument("--timeout", type=float, default=180.0, help="bound of each phase, s")
    parser.add_argument("--real", type=int, default=0, metavar="N",
                        help="instead: real sites' faults to alarms, N runs (root)")  # fmt: skip
    args = parser.parse_args(argv)
    return guarded(real, args) if args.real else guarded(run, args)


def real(args: argparse.Namespace) -> int:
    """`--real N`: the end-to-end scenario N times, each figure's p50 and max."""
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)  # the scenario lives with the tests
    from tests.integration.alarms_real import measure
    from tests.site.drivers.netlab import can_build_namespaces

    why = can_build_namespaces()
    if why:
        print(f"error: --real {why}", file=sys.stderr)
        return 1
    runs: dict[str, list[float]] = {}
    for _ in range(args.real):
        with tempfile.TemporaryDirectory(prefix="alarms-real-") as work:
            for name, value in measure(Path(work)).items():
                runs.setdefault(name, []).append(value)
    for name, values in runs.items():
        unit = "B" if "bytes" in name else "s"
        print(f"real site: {name} p50/max: {spread(values)} {unit} ({len(values)} runs)")
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        figures = measure(args.sites, args.links, args.timeout)
    except PhaseTimeout as exc:
        print(f"error: {exc.message}")
        return 1
    show(figures)
    storm_free = figures.kinds == {"SITE_OFFLINE": args.sites} and figures.roots == args.sites
    all_heard = figures.delivered == figures.outbox and figures.offline_heard == args.sites
    return 0 if storm_free and all_heard else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
