"""A worker process of `edgewise simulate`: its share of the sites, enrolled and running.

The parent (`fleet.Fleet`) starts it with its configuration as the first line on stdin; it
enrolls its sites, runs their real controllers (sim driver, real uplink) and streams what they
do back as JSON lines on its stdout until stdin says stop (or closes).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp

from edgewise.lab.errors import LabError
from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.errors import SiteError
from edgewise.site.journal import Journal, OutboxItem, SiteIdentity
from edgewise.site.uplink import (
    CentralTrust,
    PolledDesired,
    ReportReceipt,
    Uplink,
    channel_session,
    enroll,
)

STATS_INTERVAL = 0.2
BUCKET = 0.05  # seconds per request-count bucket
log = logging.getLogger(__name__)


def raise_fd_limit() -> None:
    """Soft open-file limit up to the hard one: a process holds thousands of sites' files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Probe:
    """What this worker's sites did since the last message (times: `time.monotonic()`, which is
    system-wide on Linux, so the parent compares them with its own)."""

    def __init__(self) -> None:
        self.enrolled = 0
        self.started = 0
        self.events: list[list[Any]] = []  # [kind, site, revision, t]
        self.requests: Counter[int] = Counter()
        self.connections: Counter[int] = Counter()  # TLS connections opened, per bucket
        self.errors: Counter[str] = Counter()
        self.last_errors: dict[str, list[Any]] = {}  # site -> [kind of error, t]

    def note(self, kind: str, site_id: str, revision: int = 0) -> None:
        self.events.append([kind, site_id, revision, time.monotonic()])

    def answered(self) -> None:
        self.requests[int(time.monotonic() / BUCKET)] += 1

    def connected(self) -> None:
        self.connections[int(time.monotonic() / BUCKET)] += 1

    def failed(self, call: str, exc: SiteError, site_id: str = "") -> None:
        cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else ""
        kind = f"{call} {exc.code} {cause}".strip()
        self.errors[kind] += 1
        if site_id:
            self.last_errors[site_id] = [kind, time.monotonic()]
        if exc.code.startswith("http-"):
            self.answered()  # the central answered, with an error status

    def escaped(self, call: str, exc: Exception, site_id: str) -> None:
        kind = f"{call} escaped {type(exc).__name__}"
        self.errors[kind] += 1
        self.last_errors[site_id] = [kind, time.monotonic()]
        log.error("site %s: %s left the uplink", site_id, kind, exc_info=exc)

    def drain(self) -> dict[str, Any]:
        message = {
            "enrolled": self.enrolled,
            "started": self.started,
            "events": self.events,
            "requests": dict(self.requests),
            "connections": dict(self.connections),
            "errors": dict(self.errors),
            "lastErrors": self.last_errors,
        }
        self.events, self.requests, self.errors = [], Counter(), Counter()
        self.connections = Counter()
        self.last_errors = {}
        return message


class ProbedUplink(Uplink):
    """The real uplink, noting when each poll request leaves (the site is connected), each new
    connection (a TLS handshake at the central) and what came back. Its session is the real one
    (same connector limits) plus a request trace."""

    def __init__(self, identity: SiteIdentity, probe: Probe) -> None:
        super().__init__(identity)
        self._probe = probe
        self._trace = aiohttp.TraceConfig()
        self._trace.on_request_headers_sent.append(self._headers_sent)
        self._trace.on_connection_create_end.append(self._connection_created)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:  # as Uplink._client, with the trace
            self._session = channel_session(self._ssl, [self._trace])
        return self._session

    async def _headers_sent(
        self, _session: aiohttp.ClientSession, _context: SimpleNamespace, params: Any
    ) -> None:
        if params.method == "GET":
            self._probe.note("polling", self.identity.site_id)

    async def _connection_created(
        self, _session: aiohttp.ClientSession, _context: SimpleNamespace, _params: Any
    ) -> None:
        self._probe.connected()

    async def poll_desired(self, revision: int) -> PolledDesired | None:
        try:
            polled = await super().poll_desired(revision)
        except SiteError as exc:
            self._probe.failed("poll", exc, self.identity.site_id)
            raise
        except Exception as exc:  # not a site error: it would end the controller's poll loop
            self._probe.escaped("poll", exc, self.identity.site_id)
            raise
        self._probe.answered()
        if polled is not None:
            self._probe.note("received", self.identity.site_id, polled.revision)
        return polled

    async def send_reports(self, items: Sequence[OutboxItem]) -> ReportReceipt:
        converged = [
            int(item.body.get("revision", 0))
            for item in items
            if item.kind == "status" and item.body.get("state") == "converged"
        ]
        for revision in converged:
            self._probe.note("reporting", self.identity.site_id, revision)
        try:
            receipt = await super().send_reports(items)
        except SiteError as exc:
            self._probe.failed("report", exc, self.identity.site_id)
            raise
        except Exception as exc:  # not a site error: it would end the controller's report loop
            self._probe.escaped("report", exc, self.identity.site_id)
            raise
        self._probe.answered()
        for revision in converged:
            self._probe.note("done", self.identity.site_id, revision)
        return receipt


async def _enroll_share(config: dict[str, Any], probe: Probe) -> list[Journal]:
    trust = CentralTrust(ca_pem=config["ca"])
    gate = asyncio.Semaphore(config["enrollConcurrency"])
    work = Path(config["work"])

    async def one(name: str, token: str) -> Journal:
        site_dir = work / "sites" / name
        async with gate:
            identity = await enroll(
                config["southbound"],
                token,
                trust,
                key_path=site_dir / "site.key",
                cert_path=site_dir / "site.crt",
                ca_path=site_dir / "ca.crt",
            )
        journal = Journal.open(site_dir / "journal.db")
        journal.save_identity(identity)
        probe.enrolled += 1
        return journal

    return list(await asyncio.gather(*(one(name, token) for name, token in config["sites"])))


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def _emit_every(probe: Probe) -> None:
    while True:
        await asyncio.sleep(STATS_INTERVAL)
        _emit(probe.drain())


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Any line or the end of stdin means: stop (the parent closes it when it goes away)."""
    sys.stdin.readline()
    with contextlib.suppress(RuntimeError):  # the loop already closed
        loop.call_soon_threadsafe(stop.set)


async def _worker(config: dict[str, Any]) -> None:
    raise_fd_limit()
    stop = asyncio.Event()
    threading.Thread(
        target=_watch_stdin, args=(asyncio.get_running_loop(), stop), daemon=True
    ).start()
    probe = Probe()
    emitter = asyncio.create_task(_emit_every(probe))
    controllers: list[SiteController] = []
    try:
        enrolling = asyncio.create_task(_enroll_share(config, probe))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({enrolling, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not enrolling.done():
            enrolling.cancel()
            await asyncio.gather(enrolling, return_exceptions=True)
            return
        settings = ControllerSettings(
            reconcile_interval=30.0,
            first_poll_max_delay=config["firstPollMaxDelay"],
            seed=config["seed"],
        )
        for index, journal in enumerate(enrolling.result()):
            identity = journal.identity()
            if identity is None:
                raise LabError(f"{journal.path} holds no identity")
            driver = SimDriver(latency=config["latency"], seed=config["seed"] + index)
            uplink = ProbedUplink(identity, probe)
            controllers.append(SiteController(journal, driver, uplink, settings))
        pause = 1.0 / config["startRate"]  # sites per second in this worker
        due = time.monotonic()
        for controller in controllers:  # a ramp: every start costs the central handshakes
            if stop.is_set():
                break
            await controller.start()
            probe.started += 1
            due += pause  # on a schedule: a start's own time is not added to the pause
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        gc.collect()
        gc.freeze()  # the sites live until the end: keep them out of every collection
        await stop.wait()
    finally:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await asyncio.gather(*(c.stop() for c in controllers), return_exceptions=True)
        emitter.cancel()
        _emit(probe.drain() | {"stopped": True})


def worker_main() -> None:
    """Entry point of a worker process: its configuration is the first line on stdin."""
    config = json.loads(sys.stdin.readline())
    os.nice(config["nice"])
    logging.basicConfig(
        filename=config["log"], level=logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    if config.get("uvloop"):
        with contextlib.suppress(ImportError):  # the load generator's own CPU and memory only
            import uvloop

            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        asyncio.run(_worker(config))
    except Exception as exc:
        log.exception("worker failed")
        _emit({"fatal": f"{type(exc).__name__}: {exc}"})
        raise SystemExit(1) from exc
