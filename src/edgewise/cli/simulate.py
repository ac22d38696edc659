"""`edgewise simulate`: N real site controllers (sim driver) in one process, on the real channel.

Each simulated site has its own key, certificate, journal and outbox and talks mutual TLS
to a real central. Without --central it starts its own central (embedded store, loopback),
creates and enrolls the sites, makes one change touching every site and measures how long
it takes until the central has every site's report that it applied the change.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from edgewise.cli.demo import free_port, local_central
from edgewise.cli.errors import CliError
from edgewise.cli.output import console
from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.journal import Journal, OutboxItem
from edgewise.site.uplink import CentralTrust, PolledDesired, ReportReceipt, Uplink, enroll

ENROLL_CONCURRENCY = 32
API_BATCH = 1000


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


@dataclass
class Timing:
    """When each site's report of the target revision was acknowledged by the central."""

    target: int = 0
    started: float = 0.0
    received: dict[str, float] = field(default_factory=dict)
    done: dict[str, float] = field(default_factory=dict)
    event: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    def seen(self, site_id: str) -> None:
        if site_id not in self.done:
            self.done[site_id] = time.monotonic() - self.started
            if len(self.done) >= self.expected:
                self.event.set()


class TimedUplink:
    """The real uplink, noting when the central acknowledges a status of the target revision."""

    def __init__(self, site_id: str, uplink: Uplink, timing: Timing) -> None:
        self.site_id = site_id
        self.uplink = uplink
        self.timing = timing
        self.polls = 0

    async def poll_desired(self, revision: int) -> PolledDesired | None:
        self.polls += 1
        polled = await self.uplink.poll_desired(revision)
        target = self.timing.target
        if polled is not None and target and polled.revision == target:
            self.timing.received.setdefault(self.site_id, time.monotonic() - self.timing.started)
        return polled

    async def send_reports(self, items: Sequence[OutboxItem]) -> ReportReceipt:
        receipt = await self.uplink.send_reports(items)
        target = self.timing.target
        if target and any(
            i.kind == "status" and i.body.get("revision") == target
            and i.body.get("state") == "converged"
            for i in items
        ):  # fmt: skip
            self.timing.seen(self.site_id)
        return receipt

    async def close(self) -> None:
        await self.uplink.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _raise_fd_limit() -> None:
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


async def _enroll_all(
    api: httpx.AsyncClient, sites: list[dict[str, Any]], work: Path, progress: Progress
) -> list[tuple[str, Journal]]:
    info = (await api.get("api/v1/central")).json()
    trust = CentralTrust(ca_pem=info["caCertificate"])
    gate = asyncio.Semaphore(ENROLL_CONCURRENCY)
    task = progress.add_task("enrolling sites", total=len(sites))

    async def one(site: dict[str, Any]) -> tuple[str, Journal]:
        site_dir = work / "sites" / site["name"]
        async with gate:
            identity = await enroll(
                info["southboundUrl"],
                site["enrollmentToken"]["token"],
                trust,
                key_path=site_dir / "site.key",
                cert_path=site_dir / "site.crt",
                ca_path=site_dir / "ca.crt",
            )
        journal = Journal.open(site_dir / "journal.db")
        journal.save_identity(identity)
        progress.advance(task)
        return identity.site_id, journal

    return list(await asyncio.gather(*(one(s) for s in sites)))


async def _create_sites(api: httpx.AsyncClient, count: int, tenant_id: str) -> list[dict[str, Any]]:
    created: list[dict[str, Any]] = []
    for start in range(0, count, API_BATCH):
        batch = [
            {"name": f"sim-{i:05d}", "kind": "on-premise", "tenantId": tenant_id,
             "labels": {"simulated": "true"}}
            for i in range(start, min(count, start + API_BATCH))
        ]  # fmt: skip
        response = await api.post("api/v1/sites/batch", json={"sites": batch})
        if response.status_code != 201:
            raise CliError(f"creating sites failed: {response.status_code} {response.text[:200]}")
        created.extend(response.json())
    return created


async def _run(
    central: str, token: str, count: int, work: Path, latency: float, seed: int, wait: float
) -> None:
    timing = Timing(expected=count)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=central, headers=headers, timeout=120) as api:
        with _progress() as progress:
            await _drive(api, progress, timing, count, work, latency, seed, wait)
    _report(timing, count)


async def _drive(
    api: httpx.AsyncClient,
    progress: Progress,
    timing: Timing,
    count: int,
    work: Path,
    latency: float,
    seed: int,
    wait: float,
) -> None:
    tenant = await api.post("api/v1/tenants", json={"name": f"sim-{int(time.time())}"})
    if tenant.status_code != 201:
        raise CliError(f"creating the simulation tenant failed: {tenant.text[:200]}")
    sites = await _create_sites(api, count, tenant.json()["id"])
    enrolled = await _enroll_all(api, sites, work, progress)
    settings = ControllerSettings(reconcile_interval=30.0, first_poll_max_delay=2.0, seed=seed)
    uplinks: list[TimedUplink] = []
    controllers: list[SiteController] = []
    for index, (site_id, journal) in enumerate(enrolled):
        identity = journal.identity()
        if identity is None:
            raise CliError(f"site {site_id} has no identity in its journal")
        uplinks.append(TimedUplink(site_id, Uplink(identity), timing))
        driver = SimDriver(latency=latency, failure_rate=0.0, seed=seed + index)
        controllers.append(SiteController(journal, driver, uplinks[-1], settings))
    for controller in controllers:
        await controller.start()
    try:
        await _await_first_polls(uplinks, progress)
        await _change_and_measure(api, [site_id for site_id, _ in enrolled], timing, progress, wait)
    finally:
        await asyncio.gather(*(c.stop() for c in controllers), return_exceptions=True)


async def _await_first_polls(uplinks: list[TimedUplink], progress: Progress) -> None:
    connecting = progress.add_task("first polls", total=len(uplinks))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        polled = sum(1 for u in uplinks if u.polls)
        progress.update(connecting, completed=polled)
        if polled == len(uplinks):
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # let the first polls park at the central


async def _change_and_measure(
    api: httpx.AsyncClient, ids: list[str], timing: Timing, progress: Progress, wait: float
) -> None:
    timing.target = 1  # the simulator's sites are new: the change is their first revision
    timing.started = time.monotonic()
    written = await api.post(
        "api/v1/desired-state", json={"siteIds": ids, "document": change_document(1)}
    )
    if written.status_code != 200:
        raise CliError(f"the change was refused: {written.text[:200]}")
    console.print(
        f"change written to {len(ids)} sites in {time.monotonic() - timing.started:.2f} s"
    )
    if {w["revision"] for w in written.json()} != {timing.target}:
        raise CliError("the sites already had a desired state; use new sites")
    applying = progress.add_task("applied and recorded", total=len(ids))
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait):
            while not timing.event.is_set():
                progress.update(applying, completed=len(timing.done))
                await asyncio.sleep(0.1)
    progress.update(applying, completed=len(timing.done))


def _report(timing: Timing, count: int) -> None:
    times = sorted(timing.done.values())
    if not times:
        raise CliError(f"converged 0/{count} sites: no site reported the change")
    p50 = statistics.median(times)
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    received = sorted(timing.received.values())
    if received:
        console.print(
            f"received by {len(received)}/{count} sites in {received[-1]:.2f} s "
            f"(p50 {statistics.median(received):.2f} s)",
            markup=False,
            highlight=False,
        )
    console.print(
        f"converged {len(times)}/{count} sites in {times[-1]:.2f} s "
        f"(p50 {p50:.2f} s, p99 {p99:.2f} s)",
        markup=False,
        highlight=False,
    )
    if len(times) < count:
        raise CliError(f"{count - len(times)} sites did not report the change in time")


def simulate(
    sites: Annotated[int, typer.Option(min=1, max=20_000, help="number of simulated sites")] = 100,
    central: Annotated[
        str | None, typer.Option(help="an existing central's API URL (default: start one)")
    ] = None,
    token: Annotated[str | None, typer.Option(envvar="EDGEWISE_TOKEN", help="API token")] = None,
    latency: Annotated[float, typer.Option(min=0, help="sim driver apply latency, s")] = 0.005,
    seed: Annotated[int, typer.Option(help="seed of the sim drivers and jitter")] = 1,
    timeout: Annotated[
        float, typer.Option(min=1, help="how long to wait for convergence, s")
    ] = 120,
) -> None:
    """Runs N site controllers against a central and measures one change's convergence."""
    _raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="edgewise-sim-") as scratch:
        work = Path(scratch)
        with _central(central, token, work) as (url, api_token):
            console.print(f"central {url}; {sites} simulated sites in {work}")
            asyncio.run(_run(url, api_token, sites, work, latency, seed, timeout))
