"""`edgewise demo` and `edgewise simulate`: their options and their checks. The demo and the
simulation themselves are in `edgewise.lab`; they print on the CLI's console, and the demo
works through the CLI's client and commands, handed to it here."""

from __future__ import annotations

from typing import Annotated

import typer

from edgewise.cli.client import CentralClient
from edgewise.cli.errors import CliError
from edgewise.cli.output import console
from edgewise.lab.demo.operator import Operator
from edgewise.lab.demo.run import DRIVERS, run_demo
from edgewise.lab.simulator.fleet import SITES_PER_WORKER, default_workers
from edgewise.lab.simulator.run import simulate as run_simulation


def demo(
    ctx: typer.Context,
    keep: Annotated[bool, typer.Option(help="keep the demo's data directory afterwards")] = False,
    sites: Annotated[int, typer.Option(min=1, max=20, help="how many sites")] = 5,
    driver: Annotated[
        str, typer.Option(help="the sites' data plane: auto (linux when possible), linux, sim")
    ] = "auto",
) -> None:
    """A central, the sample catalog, N sites (each its own site-controller process), the vCPE
    NSD instantiated on all of them, and real traffic sent through each site's service."""
    if driver not in DRIVERS:
        raise CliError(f"--driver {driver!r}: choose auto, linux or sim", exit_code=2)
    root = ctx.find_root().command  # the whole `edgewise` command tree

    def edgewise(central: str, token: str, *args: str) -> None:
        root.main([f"--central={central}", f"--token={token}", *args], standalone_mode=False)

    run_demo(Operator(console, CentralClient, edgewise), sites=sites, driver=driver, keep=keep)


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
        raise CliError(
            f"--sites {sites} needs --workers {default_workers(sites)} at least", exit_code=2
        )
    if central and not token:
        raise CliError("--central needs --token (an admin API token)", exit_code=2)
    run_simulation(
        console,
        sites=sites,
        workers=chosen,
        latency=latency,
        seed=seed,
        timeout=timeout,
        central=(central, token) if central and token else None,
    )
