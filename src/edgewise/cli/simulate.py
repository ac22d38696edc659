"""`edgewise simulate`: N real site controllers (sim driver) on the real channel, in K workers.

This module is the command: its options, the central it uses (its own on loopback, embedded
store, unless --central is given), one change to every site and the final figures. Each
simulated site has its own key, certificate, journal and outbox and talks mutual TLS to the
central; the machinery is in `simfleet` (worker processes, waves), `simworker` (one worker:
its share of the sites' controllers) and `simreport` (progress bars and figures).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from edgewise.cli.errors import CliError
from edgewise.cli.output import console
from edgewise.cli.simfleet import SITES_PER_WORKER, Fleet, Simulation, Wave, default_workers
from edgewise.cli.simreport import progress_bars, report
from edgewise.cli.simworker import raise_fd_limit
from edgewise.lab.central import free_port, local_central


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
                report(wave, count)  # after the progress bars: the last line is the result


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
