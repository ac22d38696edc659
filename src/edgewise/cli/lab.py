"""`edgewise simulate`: its options and their checks; the simulation itself is
`edgewise.lab.simulator`, which prints on the CLI's console."""

from __future__ import annotations

from typing import Annotated

import typer

from edgewise.cli.errors import CliError
from edgewise.cli.output import console
from edgewise.lab.simulator.fleet import SITES_PER_WORKER, default_workers
from edgewise.lab.simulator.run import simulate as run_simulation


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
    chosen = workers or default_workers(sites)
    if sites / chosen > SITES_PER_WORKER * 1.2:
        raise CliError(f"{sites} sites need at least {default_workers(sites)} workers")
    if central and not token:
        raise CliError("--central needs --token (an admin or tenant API token)")
    run_simulation(
        console,
        sites=sites,
        workers=chosen,
        latency=latency,
        seed=seed,
        timeout=timeout,
        central=(central, token) if central and token else None,
    )
