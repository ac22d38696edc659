"""The simulator's side of the central's API: `Simulation` creates the sites, waits (bounded)
until the `fleet` has them enrolled, started and polling, then writes changes touching every
site and follows each wave (`waves`) until every site's report of it is acknowledged. The
channel benchmarks drive it too.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.progress import Progress

from edgewise.lab.errors import LabError
from edgewise.lab.simulator.fleet import Fleet
from edgewise.lab.simulator.waves import Wave, change_document, stuck_at

API_BATCH = 1000
START_RATE = 150.0  # controllers started per second: ~2 handshakes each, ~2 ms of central CPU


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
    tenant_id: str | None = None

    async def setup(self) -> None:
        tenant = await self.api.post("api/v1/tenants", json={"name": f"sim-{time.time_ns()}"})
        if tenant.status_code != 201:
            raise LabError(f"creating the simulation tenant failed: {tenant.text[:200]}")
        self.tenant_id = tenant.json()["id"]
        created = await self._create_sites(self.tenant_id)
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
            self.site_ids.extend(s["id"] for s in response.json())
            self.progress.update(task, completed=len(created))
        return created

    async def teardown(self, concurrency: int = 16) -> int:
        """Deletes the sites and the tenant `setup` created (on a central that outlives the
        simulation), however far `setup` got; returns how many sites it deleted."""
        if self.tenant_id is None:
            return 0
        limit = asyncio.Semaphore(concurrency)
        refused: list[str] = []

        async def delete(site_id: str) -> None:
            async with limit:
                response = await self.api.delete(f"api/v1/sites/{site_id}")
            if response.status_code not in (204, 404):
                refused.append(f"site {site_id}: {response.status_code} {response.text[:200]}")

        await asyncio.gather(*(delete(site_id) for site_id in self.site_ids))
        if refused:
            raise LabError(f"removing {len(refused)} simulated sites failed: {refused[0]}")
        response = await self.api.delete(f"api/v1/tenants/{self.tenant_id}")
        if response.status_code not in (204, 404):
            raise LabError(f"removing the simulation's tenant failed: {response.text[:200]}")
        return len(self.site_ids)

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
