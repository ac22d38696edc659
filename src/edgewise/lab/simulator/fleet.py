"""The parent side of `edgewise simulate`: worker processes and the changes made to their sites.

`Fleet` launches the worker processes (`worker`), each with its share of the sites, and
merges what they stream back; `Simulation` creates the sites through the API, waits (bounded)
until they are enrolled, started and polling, then writes changes touching every site and
follows each wave until every site's report of it is acknowledged. The channel benchmarks
drive these two classes too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.progress import Progress

from edgewise.lab.errors import LabError, PhaseTimeout
from edgewise.lab.simulator.worker import BUCKET

ENROLL_CONCURRENCY = 64  # in flight across all workers: the central signs each certificate
SITES_PER_WORKER = 3000  # x (3 journal files + 2 sockets) stays under 20,000 open files
API_BATCH = 1000
START_RATE = 150.0  # controllers started per second: ~2 handshakes each, ~2 ms of central CPU
WORKER_NICE = 5  # the central (what is measured) gets the CPU it asks for before the sites
WORKER_ENTRY = "from edgewise.lab.simulator.worker import worker_main; worker_main()"


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


def default_workers(sites: int) -> int:
    return max(1, math.ceil(sites / SITES_PER_WORKER))


@dataclass(frozen=True)
class Stuck:
    """Where a site was when its wave's time bound ran out (times: s from the change)."""

    phase: str
    last_poll: float | None
    last_error: str | None
    last_error_at: float | None


NEVER_POLLED = "never polled"
PARKED = "never woke: its poll parked before the change was not answered"
REPOLLED = "never woke: polled again after the change, not answered yet"
NOT_SENT = "woke, its status report not sent"
NOT_ACKNOWLEDGED = "status report sent, not acknowledged"


@dataclass
class Wave:
    """One change written to every site, and when each site received it, sent its status
    report of it and had that report acknowledged (s from the change); `stuck` holds the sites
    whose report was not acknowledged when the wave was last followed."""

    revision: int
    started: float
    written: float = 0.0
    received: dict[str, float] = field(default_factory=dict)
    reporting: dict[str, float] = field(default_factory=dict)
    done: dict[str, float] = field(default_factory=dict)
    finished: float = 0.0
    stuck: dict[str, Stuck] = field(default_factory=dict)


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
    first_polls: dict[str, float] = field(default_factory=dict)  # first since `polls_since`
    _polls_since: float | None = None
    received: dict[int, dict[str, float]] = field(default_factory=dict)
    reporting: dict[int, dict[str, float]] = field(default_factory=dict)  # first status sent
    done: dict[int, dict[str, float]] = field(default_factory=dict)
    requests: Counter[int] = field(default_factory=Counter)
    connections: Counter[int] = field(default_factory=Counter)  # opened, per bucket
    errors: Counter[str] = field(default_factory=Counter)
    last_error: dict[str, tuple[str, float]] = field(default_factory=dict)  # per site
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
                WORKER_ENTRY,
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
                    if self._polls_since is not None and at > self._polls_since:
                        self.first_polls.setdefault(site_id, at)
                else:
                    seen = {"received": self.received, "reporting": self.reporting}.get(
                        kind, self.done
                    )
                    seen.setdefault(revision, {}).setdefault(site_id, at)
            self.requests.update({int(k): v for k, v in message.get("requests", {}).items()})
            self.connections.update({int(k): v for k, v in message.get("connections", {}).items()})
            self.errors.update(message.get("errors", {}))
            for site_id, (error, at) in message.get("lastErrors", {}).items():
                self.last_error[site_id] = (error, at)
        code = await process.wait()
        if code != 0 and self.failure is None:
            self.failure = f"worker {index} exited with status {code} (see {self._log(index)})"

    def _log(self, index: int) -> Path:
        return self.work / f"worker-{index}.log"

    def polls_since(self, moment: float) -> None:
        """From now on, `first_polls` holds each site's first poll sent after `moment`."""
        self._polls_since = moment
        self.first_polls = {}

    def requests_between(self, start: float, end: float) -> int:
        return sum(n for b, n in self.requests.items() if start <= b * BUCKET < end)

    def connections_between(self, start: float, end: float) -> int:
        return sum(n for b, n in self.connections.items() if start <= b * BUCKET < end)

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
                raise LabError(self.failure)
            if time.monotonic() > deadline:
                raise PhaseTimeout(
                    f"{description}: only {done}/{total} after {within:.0f} s", done, total
                )
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
            raise LabError(f"creating the simulation tenant failed: {tenant.text[:200]}")
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
                raise LabError(
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
            raise LabError(f"the change was refused: {written.text[:200]}")
        if {w["revision"] for w in written.json()} != {revision}:
            raise LabError(f"the sites were not all at revision {revision - 1}; use new sites")
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
            fleet, start = self.fleet, wave.started
            wave.received = {s: t - start for s, t in fleet.received.get(revision, {}).items()}
            wave.reporting = {s: t - start for s, t in fleet.reporting.get(revision, {}).items()}
            wave.done = {s: t - start for s, t in fleet.done.get(revision, {}).items()}
            wave.finished = max(wave.done.values(), default=0.0)
            wave.stuck = {
                site_id: stuck_at(wave, site_id, fleet.polling.get(site_id),
                                  fleet.last_error.get(site_id))
                for site_id in self.site_ids
                if site_id not in wave.done
            }  # fmt: skip
        return wave

    async def wave(self, revision: int) -> Wave:
        wave = await self.write_change(revision)
        self.progress.console.print(f"change written to {self.sites} sites in {wave.written:.2f} s")
        return await self.follow(wave)


def stuck_at(
    wave: Wave, site_id: str, last_poll: float | None, last_error: tuple[str, float] | None
) -> Stuck:
    """The phase a site whose report of `wave` is not acknowledged is in (absolute monotonic
    times in, times relative to the change out)."""
    if site_id in wave.reporting:
        phase = NOT_ACKNOWLEDGED
    elif site_id in wave.received:
        phase = NOT_SENT
    elif last_poll is None:
        phase = NEVER_POLLED
    elif last_poll <= wave.started:
        phase = PARKED
    else:
        phase = REPOLLED
    return Stuck(
        phase,
        None if last_poll is None else last_poll - wave.started,
        None if last_error is None else last_error[0],
        None if last_error is None else last_error[1] - wave.started,
    )
