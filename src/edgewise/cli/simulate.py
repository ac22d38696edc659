"""`edgewise simulate`: N real site controllers (sim driver) on the real channel, in K workers.

Each simulated site has its own key, certificate, journal and outbox and talks mutual TLS
to a real central. Without --central it starts its own central (embedded store, loopback).
The parent creates the sites through the API and splits them across worker processes (one
process holds at most ~3,000 sites: a journal is three open files, a site up to two sockets);
each worker enrolls its sites, runs their controllers and streams what it sees back as JSON
lines on its stdout. The parent then makes one change touching every site and measures how
long it takes until the central has acknowledged every site's report that it applied it.
The `Fleet` and `Simulation` classes are also what the channel benchmarks drive.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import math
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import aiohttp
import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from edgewise.cli.demo import free_port, local_central
from edgewise.cli.errors import CliError
from edgewise.cli.output import console
from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.errors import SiteError
from edgewise.site.journal import Journal, OutboxItem, SiteIdentity
from edgewise.site.uplink import (
    KEEPALIVE_SECONDS,
    CentralTrust,
    PolledDesired,
    ReportReceipt,
    Uplink,
    enroll,
)

ENROLL_CONCURRENCY = 64  # in flight across all workers: the central signs each certificate
SITES_PER_WORKER = 3000  # x (3 journal files + 2 sockets) stays under 20,000 open files
API_BATCH = 1000
START_RATE = 150.0  # controllers started per second: ~2 handshakes each, ~2 ms of central CPU
WORKER_NICE = 5  # the central (what is measured) gets the CPU it asks for before the sites
STATS_INTERVAL = 0.2
BUCKET = 0.05  # seconds per request-count bucket
log = logging.getLogger(__name__)


def change_document(step: int) -> dict[str, Any]:
    """The change the simulator makes: a vCPE service whose firewall rule changes each step."""
    return {
        "services": [
            {
                "id": "vcpe",
                "name": "vcpe",
                "tenant": "sim",
                "vnfs": [
                    {
                        "name": "fw",
                        "function": "firewall",
                        "config": {"default_action": "drop", "rules": [{"port": 1000 + step}]},
                    },
                    {"name": "nat", "function": "nat", "config": {"mode": "masquerade"}},
                ],
                "chain": ["fw", "nat"],
            }
        ]
    }


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted `values`."""
    return values[min(len(values) - 1, round(fraction * (len(values) - 1)))]


# --- worker side: one process running its share of the sites ---------------------------------


class Probe:
    """What this worker's sites did since the last message (times: `time.monotonic()`, which is
    system-wide on Linux, so the parent compares them with its own)."""

    def __init__(self) -> None:
        self.enrolled = 0
        self.started = 0
        self.events: list[list[Any]] = []  # [kind, site, revision, t]
        self.requests: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()

    def note(self, kind: str, site_id: str, revision: int = 0) -> None:
        self.events.append([kind, site_id, revision, time.monotonic()])

    def answered(self) -> None:
        self.requests[int(time.monotonic() / BUCKET)] += 1

    def failed(self, call: str, exc: SiteError) -> None:
        cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else ""
        self.errors[f"{call} {exc.code} {cause}".strip()] += 1
        if exc.code.startswith("http-"):
            self.answered()  # the central answered, with an error status

    def drain(self) -> dict[str, Any]:
        message = {
            "enrolled": self.enrolled,
            "started": self.started,
            "events": self.events,
            "requests": dict(self.requests),
            "errors": dict(self.errors),
        }
        self.events, self.requests, self.errors = [], Counter(), Counter()
        return message


class ProbedUplink(Uplink):
    """The real uplink, noting when each poll request leaves (the site is connected) and what
    came back. Its session is the real one (same connector limits) plus a request trace."""

    def __init__(self, identity: SiteIdentity, probe: Probe) -> None:
        super().__init__(identity)
        self._probe = probe
        self._trace = aiohttp.TraceConfig()
        self._trace.on_request_headers_sent.append(self._headers_sent)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:  # as Uplink._client, with the trace
            connector = aiohttp.TCPConnector(
                ssl=self._ssl, limit=2, keepalive_timeout=KEEPALIVE_SECONDS
            )
            self._session = aiohttp.ClientSession(connector=connector, trace_configs=[self._trace])
        return self._session

    async def _headers_sent(
        self, _session: aiohttp.ClientSession, _context: SimpleNamespace, params: Any
    ) -> None:
        if params.method == "GET":
            self._probe.note("polling", self.identity.site_id)

    async def poll_desired(self, revision: int) -> PolledDesired | None:
        try:
            polled = await super().poll_desired(revision)
        except SiteError as exc:
            self._probe.failed("poll", exc)
            raise
        self._probe.answered()
        if polled is not None:
            self._probe.note("received", self.identity.site_id, polled.revision)
        return polled

    async def send_reports(self, items: Sequence[OutboxItem]) -> ReportReceipt:
        try:
            receipt = await super().send_reports(items)
        except SiteError as exc:
            self._probe.failed("report", exc)
            raise
        self._probe.answered()
        for item in items:
            body = item.body
            if item.kind == "status" and body.get("state") == "converged":
                self._probe.note("done", self.identity.site_id, int(body.get("revision", 0)))
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
                raise CliError(f"{journal.path} holds no identity")
            driver = SimDriver(latency=config["latency"], seed=config["seed"] + index)
            uplink = ProbedUplink(identity, probe)
            controllers.append(SiteController(journal, driver, uplink, settings))
        pause = 1.0 / config["startRate"]  # sites per second in this worker
        for controller in controllers:  # a ramp: every start costs the central handshakes
            if stop.is_set():
                break
            await controller.start()
            probe.started += 1
            await asyncio.sleep(pause)
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


# --- parent side: the fleet of workers, merged ------------------------------------------------


@dataclass
class Wave:
    """One change written to every site, and when each site received it and was recorded."""

    revision: int
    started: float
    written: float = 0.0
    received: dict[str, float] = field(default_factory=dict)
    done: dict[str, float] = field(default_factory=dict)
    finished: float = 0.0


@dataclass
class Fleet:
    """Worker processes running the simulated sites, and what they report, merged."""

    work: Path
    uvloop: bool = True
    nice: int = WORKER_NICE
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)
    enrolled: dict[int, int] = field(default_factory=dict)
    started: dict[int, int] = field(default_factory=dict)
    polling: dict[str, float] = field(default_factory=dict)  # last poll sent, per site
    received: dict[int, dict[str, float]] = field(default_factory=dict)
    done: dict[int, dict[str, float]] = field(default_factory=dict)
    requests: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    failure: str | None = None
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def launch(
        self,
        southbound: str,
        ca_pem: str,
        sites: Sequence[tuple[str, str]],
        *,
        workers: int,
        latency: float,
        seed: int,
        first_poll_max_delay: float,
        start_rate: float,
    ) -> None:
        shares = [list(sites[i::workers]) for i in range(workers)]
        concurrency = max(1, ENROLL_CONCURRENCY // workers)
        for index, share in enumerate(shares):
            config = {
                "southbound": southbound, "ca": ca_pem, "sites": share, "work": str(self.work),
                "latency": latency, "seed": seed + index * len(sites),
                "enrollConcurrency": concurrency, "firstPollMaxDelay": first_poll_max_delay,
                "log": str(self.work / f"worker-{index}.log"), "uvloop": self.uvloop,
                "startRate": start_rate / workers, "nice": self.nice,
            }  # fmt: skip
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "from edgewise.cli.simulate import worker_main; worker_main()",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=64 * 1024 * 1024,
            )
            assert process.stdin is not None
            process.stdin.write(json.dumps(config).encode() + b"\n")
            await process.stdin.drain()
            self.processes.append(process)
            self._readers.append(asyncio.create_task(self._read(index, process)))

    async def _read(self, index: int, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            message = json.loads(line)
            if "fatal" in message:
                self.failure = f"worker {index}: {message['fatal']} (see {self._log(index)})"
            if "enrolled" in message:
                self.enrolled[index] = message["enrolled"]
                self.started[index] = message["started"]
            for kind, site_id, revision, at in message.get("events", ()):
                if kind == "polling":
                    self.polling[site_id] = at
                else:
                    seen = self.received if kind == "received" else self.done
                    seen.setdefault(revision, {}).setdefault(site_id, at)
            self.requests.update({int(k): v for k, v in message.get("requests", {}).items()})
            self.errors.update(message.get("errors", {}))
        code = await process.wait()
        if code != 0 and self.failure is None:
            self.failure = f"worker {index} exited with status {code} (see {self._log(index)})"

    def _log(self, index: int) -> Path:
        return self.work / f"worker-{index}.log"

    def requests_between(self, start: float, end: float) -> int:
        return sum(n for b, n in self.requests.items() if start <= b * BUCKET < end)

    async def wait_for(
        self,
        progress: Progress,
        description: str,
        total: int,
        count: Callable[[], int],
        within: float,
    ) -> None:
        """Shows `count()` against `total` until it is reached; a clear error after `within` s."""
        task = progress.add_task(description, total=total)
        deadline = time.monotonic() + within
        while (done := count()) < total:
            progress.update(task, completed=done)
            if self.failure:
                raise CliError(self.failure)
            if time.monotonic() > deadline:
                raise CliError(f"{description}: only {done}/{total} after {within:.0f} s")
            await asyncio.sleep(0.1)
        progress.update(task, completed=total)

    async def stop(self, within: float = 60) -> None:
        for process in self.processes:
            if process.stdin is not None and not process.stdin.is_closing():
                process.stdin.write(b"stop\n")
                with contextlib.suppress(ConnectionError):
                    await process.stdin.drain()
                process.stdin.close()
        try:
            async with asyncio.timeout(within):
                await asyncio.gather(*self._readers, return_exceptions=True)
        except TimeoutError:
            for process in self.processes:
                if process.returncode is None:
                    process.kill()  # our own worker, by its process handle
            await asyncio.gather(*(p.wait() for p in self.processes))


def default_workers(sites: int) -> int:
    return max(1, math.ceil(sites / SITES_PER_WORKER))


@dataclass
class Simulation:
    """Creates, enrolls and connects `sites` simulated sites against a central, then makes
    changes touching all of them (`wave`). Every phase is bounded by `timeout` seconds."""

    api: httpx.AsyncClient
    progress: Progress
    fleet: Fleet
    sites: int
    workers: int
    latency: float = 0.005
    seed: int = 1
    timeout: float = 120.0
    first_poll_max_delay: float = 1.0
    start_rate: float = START_RATE
    site_ids: list[str] = field(default_factory=list)

    async def setup(self) -> None:
        tenant = await self.api.post("api/v1/tenants", json={"name": f"sim-{time.time_ns()}"})
        if tenant.status_code != 201:
            raise CliError(f"creating the simulation tenant failed: {tenant.text[:200]}")
        created = await self._create_sites(tenant.json()["id"])
        self.site_ids = [s["id"] for s in created]
        info = (await self.api.get("api/v1/central")).json()
        await self.fleet.launch(
            info["southboundUrl"],
            info["caCertificate"],
            [(s["name"], s["enrollmentToken"]["token"]) for s in created],
            workers=self.workers,
            latency=self.latency,
            seed=self.seed,
            first_poll_max_delay=self.first_poll_max_delay,
            start_rate=self.start_rate,
        )
        # enrollment: one certificate signed per site; ~10 ms of central time each
        await self.fleet.wait_for(
            self.progress, "enrolling sites", self.sites,
            lambda: sum(self.fleet.enrolled.values()), self.timeout + self.sites * 0.05,
        )  # fmt: skip
        await self.fleet.wait_for(
            self.progress, "starting controllers", self.sites,
            lambda: sum(self.fleet.started.values()), self.timeout + self.sites / self.start_rate,
        )  # fmt: skip
        await self.fleet.wait_for(
            self.progress, "connected (polling)", self.sites,
            lambda: len(self.fleet.polling), self.timeout,
        )  # fmt: skip
        await asyncio.sleep(0.5)  # let the last polls park at the central

    async def _create_sites(self, tenant_id: str) -> list[dict[str, Any]]:
        task = self.progress.add_task("creating sites", total=self.sites)
        created: list[dict[str, Any]] = []
        for start in range(0, self.sites, API_BATCH):
            batch = [
                {"name": f"sim-{i:05d}", "kind": "on-premise", "tenantId": tenant_id,
                 "labels": {"simulated": "true"}}
                for i in range(start, min(self.sites, start + API_BATCH))
            ]  # fmt: skip
            response = await self.api.post("api/v1/sites/batch", json={"sites": batch})
            if response.status_code != 201:
                raise CliError(
                    f"creating sites failed: {response.status_code} {response.text[:200]}"
                )
            created.extend(response.json())
            self.progress.update(task, completed=len(created))
        return created

    async def write_change(self, revision: int) -> Wave:
        """Writes change number `revision` to every site (they must hold `revision - 1`)."""
        wave = Wave(revision, time.monotonic())
        written = await self.api.post(
            "api/v1/desired-state",
            json={"siteIds": self.site_ids, "document": change_document(revision)},
        )
        wave.written = time.monotonic() - wave.started
        if written.status_code != 200:
            raise CliError(f"the change was refused: {written.text[:200]}")
        if {w["revision"] for w in written.json()} != {revision}:
            raise CliError(f"the sites were not all at revision {revision - 1}; use new sites")
        return wave

    async def follow(self, wave: Wave, description: str = "applied and recorded") -> Wave:
        """Waits (bounded) until every site's report of the wave's revision is acknowledged."""
        revision = wave.revision
        try:
            await self.fleet.wait_for(
                self.progress, description, self.sites,
                lambda: len(self.fleet.done.get(revision, {})), self.timeout,
            )  # fmt: skip
        finally:
            wave.received = {
                s: t - wave.started for s, t in self.fleet.received.get(revision, {}).items()
            }
            wave.done = {s: t - wave.started for s, t in self.fleet.done.get(revision, {}).items()}
            wave.finished = max(wave.done.values(), default=0.0)
        return wave

    async def wave(self, revision: int) -> Wave:
        wave = await self.write_change(revision)
        console.print(f"change written to {self.sites} sites in {wave.written:.2f} s")
        return await self.follow(wave)


def summary(name: str, values: Sequence[float], count: int) -> str:
    ordered = sorted(values)
    if not ordered:
        return f"{name} 0/{count} sites"
    return (
        f"{name} {len(ordered)}/{count} sites in {ordered[-1]:.2f} s "
        f"(p50 {statistics.median(ordered):.2f} s, p99 {percentile(ordered, 0.99):.2f} s)"
    )


def progress_bars() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextlib.contextmanager
def _central(url: str | None, token: str | None, work: Path) -> Iterator[tuple[str, str]]:
    if url:
        if not token:
            raise CliError("--central needs --token (an admin or tenant API token)")
        yield url, token
        return
    data_dir = work / "central"
    data_dir.mkdir()
    with local_central(data_dir, free_port()) as started:
        yield started, (data_dir / "admin.token").read_text().strip()


async def _run(central: str, token: str, work: Path, options: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    fleet = Fleet(work)
    count = options["sites"]
    wave: Wave | None = None
    async with httpx.AsyncClient(base_url=central, headers=headers, timeout=120) as api:
        try:
            with progress_bars() as progress:
                simulation = Simulation(api, progress, fleet, **options)
                await simulation.setup()
                wave = await simulation.write_change(1)
                console.print(f"change written to {count} sites in {wave.written:.2f} s")
                await simulation.follow(wave)
        finally:
            await fleet.stop()
            if wave is not None:
                _report(wave, count)  # after the progress bars: the last line is the result


def _report(wave: Wave, count: int) -> None:
    if wave.received:
        console.print(summary("received by", list(wave.received.values()), count), markup=False)
    times = sorted(wave.done.values())
    if times:
        console.print(
            f"converged {len(times)}/{count} sites in {times[-1]:.2f} s "
            f"(p50 {statistics.median(times):.2f} s, p99 {percentile(times, 0.99):.2f} s)",
            markup=False,
            highlight=False,
        )


def simulate(
    sites: Annotated[int, typer.Option(min=1, max=20_000, help="number of simulated sites")] = 100,
    central: Annotated[
        str | None, typer.Option(help="an existing central's API URL (default: start one)")
    ] = None,
    token: Annotated[str | None, typer.Option(envvar="EDGEWISE_TOKEN", help="API token")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=32, help=f"worker processes (default: 1 per {SITES_PER_WORKER})"),
    ] = None,
    latency: Annotated[float, typer.Option(min=0, help="sim driver apply latency, s")] = 0.005,
    seed: Annotated[int, typer.Option(help="seed of the sim drivers and jitter")] = 1,
    timeout: Annotated[float, typer.Option(min=1, help="how long each phase may take, s")] = 120,
) -> None:
    """Runs N site controllers against a central and measures one change's convergence."""
    raise_fd_limit()
    chosen = workers or default_workers(sites)
    if sites / chosen > SITES_PER_WORKER * 1.2:
        raise CliError(f"{sites} sites need at least {default_workers(sites)} workers")
    options = {"sites": sites, "workers": chosen, "latency": latency, "seed": seed,
               "timeout": timeout}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="edgewise-sim-") as scratch:
        work = Path(scratch)
        with _central(central, token, work) as (url, api_token):
            console.print(f"central {url}; {sites} simulated sites in {chosen} workers, in {work}")
            asyncio.run(_run(url, api_token, work, options))
