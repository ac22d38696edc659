"""One simulation, as `edgewise simulate` runs it: N real site controllers (sim driver) on the
real channel, in K workers, against a central (its own on loopback, embedded store, unless one
is given); one change to every site; the final figures.

Each simulated site has its own key, certificate, journal and outbox and talks mutual TLS to the
central; the machinery is in `simulation` (the sites through the API, the changes and their
waves), `fleet` (worker processes), `worker` (one worker: its share of the sites' controllers),
`waves` (what became of a change) and `report` (progress bars and figures).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from edgewise.lab.central import free_port, local_central
from edgewise.lab.simulator.fleet import Fleet
from edgewise.lab.simulator.report import progress_bars, report
from edgewise.lab.simulator.simulation import Simulation
from edgewise.lab.simulator.waves import Wave
from edgewise.lab.simulator.worker import raise_fd_limit


@contextlib.contextmanager
def _central(existing: tuple[str, str] | None, work: Path) -> Iterator[tuple[str, str]]:
    if existing is not None:
        yield existing
        return
    data_dir = work / "central"
    data_dir.mkdir()
    with local_central(data_dir, free_port()) as started:
        yield started, (data_dir / "admin.token").read_text().strip()


async def _run(
    console: Console,
    central: str,
    token: str,
    work: Path,
    options: dict[str, Any],
    *,
    clean_up: bool,
) -> None:
    """One simulation; with `clean_up` (a central that outlives it), the tenant and the sites
    it created are deleted afterwards, whether it succeeded or not."""
    headers = {"Authorization": f"Bearer {token}"}
    fleet = Fleet(work)
    count = options["sites"]
    wave: Wave | None = None
    simulation: Simulation | None = None
    async with httpx.AsyncClient(base_url=central, headers=headers, timeout=120) as api:
        try:
            with progress_bars(console) as progress:
                simulation = Simulation(api, progress, fleet, **options)
                await simulation.setup()
                wave = await simulation.write_change(1)
                console.print(f"change written to {count} sites in {wave.written:.2f} s")
                await simulation.follow(wave)
        finally:
            await fleet.stop()
            try:
                if clean_up and simulation is not None:
                    removed = await simulation.teardown()
                    console.print(f"removed the simulation's tenant and its {removed} sites")
            finally:
                if wave is not None:  # after the progress bars: the last line is the result
                    report(wave, count, console)


def simulate(
    console: Console,
    *,
    sites: int,
    workers: int,
    latency: float,
    seed: int,
    timeout: float,
    central: tuple[str, str] | None = None,
) -> None:
    """Runs `sites` site controllers in `workers` processes against `central` (its API URL and
    a token; default: a central of its own) and shows one change's convergence on `console`."""
    raise_fd_limit()
    options = {"sites": sites, "workers": workers, "latency": latency, "seed": seed,
               "timeout": timeout}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="edgewise-sim-") as scratch:
        work = Path(scratch)
        with _central(central, work) as (url, api_token):
            console.print(f"central {url}; {sites} simulated sites in {workers} workers, in {work}")
            asyncio.run(_run(console, url, api_token, work, options, clean_up=central is not None))
