"""NS life cycle at fleet scale: a rollout to every site, then sustained LCM throughput.

Usage: python benchmarks/ns_lifecycle.py [--sites 1000 10000] [--lcm-sites 1000]
                                         [--timeout S] [--reader-rate R]

For each N of --sites: a fresh central (child process, SQLite) and N simulated sites
(`edgewise simulate`'s workers: real site controllers, sim driver, real mTLS channel) on this
machine. Measured:
- rollout: the vCPE NSD rolled out to all N sites as one rollout (one wave, one NS instance
  per site), from the API call to the rollout COMPLETED (every site's operation COMPLETED,
  which needs every site's report that it applied its revision);
- LCM throughput (for N == --lcm-sites): every NS instance goes through update (a firewall
  rule), terminate and instantiate, one after the other, all NS instances at once; completions
  are learnt from NS LCM notifications (a subscription to operation results with a callback
  server here, as an OSS would), so the figure is operations COMPLETED per second, end to end;
- API read latency under that load: a reader GETs NS instances at --reader-rate per second
  during the LCM phase (p50, p99, max).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from aiohttp import web
from bench_central import Central, console, cpu_seconds, guarded
from rich.table import Table

from edgewise.lab import samples
from edgewise.lab.errors import LabError
from edgewise.lab.simulator.fleet import Fleet, default_workers
from edgewise.lab.simulator.report import percentile, progress_bars
from edgewise.lab.simulator.simulation import Simulation

NSD = samples.path("vcpe-nsd.yaml")
STEPS = ("update", "terminate", "instantiate")


@dataclass
class Figures:
    sites: int
    rollout_s: float = 0.0
    rollout_done: int = 0
    lcm_ops: int = 0
    lcm_s: float = 0.0
    lcm_cpu_s: float = 0.0  # the central's CPU time during the LCM phase
    lcm_failed: int = 0
    reads: list[float] = field(default_factory=list)

    @property
    def ops_per_s(self) -> float:
        return self.lcm_ops / self.lcm_s if self.lcm_s else 0.0


class Completions:
    """The callback server's side: operation id -> the state its RESULT notification gave."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[str]] = {}
        self.early: dict[str, str] = {}

    def expect(self, op_id: str) -> asyncio.Future[str]:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        if op_id in self.early:
            future.set_result(self.early.pop(op_id))
        else:
            self.waiting[op_id] = future
        return future

    async def notified(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("notificationStatus") == "RESULT":
            op_id, state = body["nsLcmOpOccId"], body["operationState"]
            future = self.waiting.pop(op_id, None)
            if future is None:
                self.early[op_id] = state
            elif not future.done():
                future.set_result(state)
        return web.Response(status=204)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_get("/notify", lambda _: _no_content())
        app.router.add_post("/notify", self.notified)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield f"http://127.0.0.1:{port}/notify"
        finally:
            await runner.cleanup()


async def _no_content() -> web.Response:
    return web.Response(status=204)


async def onboard(api: httpx.AsyncClient) -> str:
    nsd: str = (await api.post("nsd/v1/ns_descriptors", json={})).json()["id"]
    uploaded = await api.put(
        f"nsd/v1/ns_descriptors/{nsd}/nsd_content",
        content=NSD.read_bytes(),
        headers={"Content-Type": "text/plain"},
    )
    if uploaded.status_code != 204:
        raise LabError(f"onboarding the NSD failed: {uploaded.text[:200]}")
    return nsd


async def rollout(
    api: aiohttp.ClientSession, nsd: str, sites: int, bound: float
) -> tuple[float, int]:
    started = time.monotonic()
    body = {"name": "bench", "nsdId": nsd, "labels": "simulated=true", "batchSize": sites}
    async with api.post("/api/v1/rollouts", json=body) as made:
        if made.status != 201:
            raise LabError(f"the rollout was refused: {(await made.text())[:300]}")
        view: dict[str, Any] = await made.json()
    rollout_id = view["id"]
    with progress_bars(console) as progress:
        task = progress.add_task("rollout: sites COMPLETED", total=sites)
        while view["state"] == "RUNNING" and time.monotonic() - started < bound:
            await asyncio.sleep(0.25)
            async with api.get(f"/api/v1/rollouts/{rollout_id}") as answer:
                view = await answer.json()
            progress.update(task, completed=view["sites"]["DONE"])
    elapsed = time.monotonic() - started
    if view["state"] != "COMPLETED":
        console.print(f"[red]rollout {view['state']} after {elapsed:.1f} s: {view['sites']}")
    return elapsed, int(view["sites"]["DONE"])


async def lcm_load(
    api: aiohttp.ClientSession,
    url: str,
    completions: Completions,
    figures: Figures,
    reader_rate: float,
    bound: float,
) -> None:
    instances: list[dict[str, Any]] = []
    following: Any = "/nslcm/v1/ns_instances?limit=1000"
    while following:
        async with api.get(following) as page:
            instances += await page.json()
            following = page.links["next"]["url"] if "next" in page.links else None
    stop = asyncio.Event()
    reader = asyncio.create_task(read_under_load(api, url, instances, reader_rate, figures, stop))
    started = time.monotonic()
    with progress_bars(console) as progress:
        task = progress.add_task("LCM operations COMPLETED", total=len(instances) * len(STEPS))
        results = await asyncio.wait_for(
            asyncio.gather(*(cycle(api, completions, ns, progress, task) for ns in instances)),
            timeout=bound,
        )
    figures.lcm_s = time.monotonic() - started
    stop.set()
    await reader
    figures.lcm_ops = sum(done for done, _ in results)
    figures.lcm_failed = sum(failed for _, failed in results)


async def cycle(
    api: aiohttp.ClientSession,
    completions: Completions,
    ns: dict[str, Any],
    progress: Any,
    task: Any,
) -> tuple[int, int]:
    """update -> terminate -> instantiate on the NS's site; (completed, failed)."""
    bodies = {
        "update": {"updateType": "MODIFY_VNF_INFORMATION", "modifyVnfInfoData": [
            {"vnfInstanceId": "firewall", "vnfConfigurableProperties": {"default_action":
                                                                          "reject"}}]},
        "terminate": {},
        "instantiate": {"nsFlavourId": "default",
                        "additionalParamsForNs": {"sites": list(ns["sites"])}},
    }  # fmt: skip
    done = failed = 0
    for step in STEPS:
        async with api.post(
            f"/nslcm/v1/ns_instances/{ns['id']}/{step}", json=bodies[step]
        ) as answer:
            accepted, location = answer.status == 202, answer.headers.get("Location", "")
        if not accepted:
            failed += 1
            break
        state = await completions.expect(location.rsplit("/", 1)[-1])
        if state != "COMPLETED":
            failed += 1
            break
        done += 1
        progress.advance(task)
    return done, failed


async def read_under_load(
    api: aiohttp.ClientSession,
    url: str,
    instances: list[dict[str, Any]],
    rate: float,
    figures: Figures,
    stop: asyncio.Event,
) -> None:
    """A dashboard's reads, on a client of their own (not queued behind the load's requests)."""
    async with _session(url, api.headers) as own:
        await _read(own, instances, rate, figures, stop)


def _session(url: str, headers: Any, connections: int = 64) -> aiohttp.ClientSession:
    """The load's HTTP client: aiohttp, which costs the shared CPU about 5x less per request
    than httpx (the load generator must not starve the central it measures)."""
    return aiohttp.ClientSession(
        base_url=url,
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=120),
        connector=aiohttp.TCPConnector(limit=connections),
    )


async def _read(
    api: aiohttp.ClientSession, instances: list[dict[str, Any]], rate: float, figures: Figures,
    stop: asyncio.Event,
) -> None:  # fmt: skip
    index = 0
    while not stop.is_set():
        ns = instances[index % len(instances)]
        index += 1
        began = time.perf_counter()
        async with api.get(f"/nslcm/v1/ns_instances/{ns['id']}") as answer:
            await answer.read()
            if answer.status == 200:
                figures.reads.append(time.perf_counter() - began)
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - began)))


async def measure(central: Central, sites: int, args: argparse.Namespace) -> Figures:
    figures = Figures(sites)
    fleet = Fleet(central.data_dir.parent)
    completions = Completions()
    headers = {"Authorization": f"Bearer {central.token()}"}
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(
        base_url=central.url, headers=headers, timeout=120, limits=limits
    ) as api, completions.serving() as callback:  # fmt: skip
        try:
            with progress_bars(console) as progress:
                simulation = Simulation(
                    api,
                    progress,
                    fleet,
                    sites=sites,
                    workers=default_workers(sites),
                    timeout=args.timeout,
                )
                await simulation.setup()  # fmt: skip
            subscribed = await api.post(
                "nslcm/v1/subscriptions",
                json={
                    "callbackUri": callback,
                    # an OSS waiting for results: no START notifications (state PROCESSING)
                    "filter": {
                        "notificationTypes": ["NsLcmOperationOccurrenceNotification"],
                        "operationStates": ["COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK"],
                    },
                },
            )
            if subscribed.status_code != 201:  # fmt: skip
                raise LabError(f"subscribing failed: {subscribed.text[:200]}")
            nsd = await onboard(api)
            async with _session(central.url, headers) as load:
                figures.rollout_s, figures.rollout_done = await rollout(
                    load, nsd, sites, args.timeout
                )
                if sites == args.lcm_sites and figures.rollout_done == sites:
                    cpu_before = cpu_seconds(central.pid)
                    await lcm_load(
                        load, central.url, completions, figures, args.reader_rate, args.timeout
                    )
                    figures.lcm_cpu_s = cpu_seconds(central.pid) - cpu_before
        finally:
            await fleet.stop()
    return figures


def run_one(sites: int, args: argparse.Namespace) -> Figures:
    with tempfile.TemporaryDirectory(prefix="ewbench-ns-") as scratch:
        # the OSS callback listens on loopback: allowed explicitly (a real central refuses it)
        central = Central(Path(scratch) / "central", env={"EDGEWISE_FETCH_ALLOW": "127.0.0.0/8"})
        try:
            central.start()
            console.print(f"central pid {central.pid} at {central.url}; {sites} sites")
            return asyncio.run(measure(central, sites, args))
        finally:
            central.stop()


def show(results: list[Figures]) -> None:
    table = Table(title="NS life cycle on simulated sites (one central, SQLite, 2 cores shared)")
    for column in ("sites", "rollout to all s", "sites COMPLETED", "LCM ops", "LCM ops/s",
                   "failed", "API read p50 / p99 / max ms"):  # fmt: skip
        table.add_column(column, justify="right")
    for r in results:
        reads = sorted(r.reads)
        latency = (
            f"{statistics.median(reads) * 1000:.1f} / {percentile(reads, 0.99) * 1000:.1f} / "
            f"{reads[-1] * 1000:.1f}" if reads else "-"
        )  # fmt: skip
        table.add_row(
            str(r.sites), f"{r.rollout_s:.2f}", str(r.rollout_done),
            str(r.lcm_ops or "-"), f"{r.ops_per_s:.0f}" if r.lcm_ops else "-",
            str(r.lcm_failed), latency,
        )  # fmt: skip
    console.print(table)
    for r in results:
        print(f"[{r.sites} sites] rollout to all: {r.rollout_s:.2f} s "
              f"({r.rollout_done}/{r.sites} COMPLETED)")  # fmt: skip
        if r.lcm_ops:
            reads = sorted(r.reads)
            print(f"[{r.sites} sites] LCM: {r.lcm_ops} ops COMPLETED in {r.lcm_s:.1f} s = "
                  f"{r.ops_per_s:.0f} ops/s ({r.lcm_failed} failed); API read p50/p99/max: "
                  f"{statistics.median(reads) * 1000:.1f} / {percentile(reads, 0.99) * 1000:.1f}"
                  f" / {reads[-1] * 1000:.1f} ms over {len(reads)} reads")  # fmt: skip
            print(f"[{r.sites} sites] central CPU during LCM: {r.lcm_cpu_s:.1f} s = "
                  f"{r.lcm_cpu_s / r.lcm_ops * 1000:.1f} ms per operation")  # fmt: skip
    console.print("goals: 10,000 sites rolled out under 20 s; 200 LCM ops/s on 1,000 sites; "
                  "API read p99 under 50 ms")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    results = [run_one(sites, args) for sites in args.sites]
    show(results)
    return 0 if all(r.rollout_done == r.sites for r in results) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--lcm-sites", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=300.0, help="bound of every phase, s")
    parser.add_argument("--reader-rate", type=float, default=50.0, help="API reads per second")
    sys.exit(guarded(run, parser.parse_args()))


if __name__ == "__main__":
    main()
