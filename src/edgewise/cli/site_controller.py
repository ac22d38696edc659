"""`edgewise site-controller enroll|run`: enroll this site with the central, then run it."""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
from enum import StrEnum
from ipaddress import IPv4Network
from pathlib import Path
from typing import Annotated

import typer

from edgewise.cli.errors import CliError
from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.base import Driver
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.errors import SiteError
from edgewise.site.journal import Journal
from edgewise.site.uplink import CentralTrust, Uplink, enroll

app = typer.Typer(
    help="The site controller: enroll this site, then run its services.",
    no_args_is_help=True,
)
DataDir = Annotated[Path, typer.Option("--data-dir", help="the site's state directory")]


class DriverKind(StrEnum):
    SIM = "sim"
    LINUX = "linux"


def journal_path(data_dir: Path) -> Path:
    return data_dir / "journal.db"


def open_journal(data_dir: Path) -> Journal:
    try:
        return Journal.open(journal_path(data_dir))
    except (OSError, sqlite3.Error) as exc:
        raise CliError(f"cannot open the journal in {data_dir}: {exc}") from exc


@app.command("enroll")
def enroll_site(
    central: Annotated[str, typer.Option(help="southbound URL of the central, https://...")],
    token: Annotated[str, typer.Option(help="the one-time enrollment token")],
    data_dir: DataDir,
    ca_file: Annotated[Path | None, typer.Option(help="the central's CA certificate (PEM)")] = None,
    ca_fingerprint: Annotated[
        str | None, typer.Option(help="SHA-256 fingerprint of the central's CA")
    ] = None,
    insecure_first_contact: Annotated[
        bool, typer.Option(help="lab use: trust whatever CA the central sends")
    ] = False,
) -> None:
    """Enrolls this site: a new key, a certificate from the central, the CA pinned."""
    try:
        ca_pem = ca_file.read_text() if ca_file else None
    except OSError as exc:
        raise CliError(f"--ca-file: {exc}") from exc
    trust = CentralTrust(ca_pem, ca_fingerprint, insecure_first_contact)
    pki = data_dir / "pki"
    try:
        identity = asyncio.run(
            enroll(
                central,
                token,
                trust,
                key_path=pki / "site.key",
                cert_path=pki / "site.crt",
                ca_path=pki / "ca.crt",
            )
        )
    except SiteError as exc:
        raise CliError(f"enrollment failed: {exc.message}") from exc
    with open_journal(data_dir) as journal:
        journal.save_identity(identity)
    typer.echo(f"enrolled as site {identity.site_id}")


@app.command("run")
def run_site(
    data_dir: DataDir,
    driver: Annotated[DriverKind, typer.Option(help="the data plane")] = DriverKind.SIM,
    sim_latency: Annotated[float, typer.Option(min=0, help="sim: mean seconds per change")] = 0.0,
    sim_failure_rate: Annotated[
        float, typer.Option(min=0, max=1, help="sim: chance that a change fails")
    ] = 0.0,
    seed: Annotated[int | None, typer.Option(help="seed of the sim and the jitter")] = None,
    site_prefix: Annotated[
        str, typer.Option(help="linux: prefix of every kernel object of this site (1-6 a-z0-9)")
    ] = "ew",
    lan_netns: Annotated[
        str | None, typer.Option(help="linux: namespace of the site's LAN side")
    ] = None,
    wan_netns: Annotated[
        str | None, typer.Option(help="linux: namespace of the site's WAN side")
    ] = None,
    lan_pool: Annotated[
        str, typer.Option(help="linux: block the services' LAN subnets (/24 each) come from")
    ] = "172.16.0.0/12",
    transit_pool: Annotated[
        str, typer.Option(help="linux: block the chains' /31 links (a /28 per service) come from")
    ] = "10.255.0.0/16",
    reconcile_interval: Annotated[
        float, typer.Option(min=0.1, help="seconds between reconcile passes")
    ] = 5.0,
    first_poll_max_delay: Annotated[
        float, typer.Option(min=0, help="random wait of up to this many seconds before polling")
    ] = 10.0,
) -> None:
    """Runs the site controller until interrupted (SIGINT or SIGTERM)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    journal = open_journal(data_dir)
    identity = journal.identity()
    if identity is None:
        journal.close()
        raise CliError(f"{data_dir} holds no enrolled site: run `site-controller enroll` first")
    try:
        uplink = Uplink(identity)
    except (OSError, ValueError) as exc:
        journal.close()
        raise CliError(f"cannot load the site's key or certificates: {exc}") from exc
    data_plane: Driver
    if driver is DriverKind.LINUX:
        try:
            data_plane = linux_driver(site_prefix, lan_netns, wan_netns, lan_pool, transit_pool)
        except CliError:
            journal.close()
            raise
    else:
        data_plane = SimDriver(sim_latency, sim_failure_rate, seed or 0)
    settings = ControllerSettings(
        reconcile_interval=reconcile_interval, first_poll_max_delay=first_poll_max_delay, seed=seed
    )
    asyncio.run(serve(SiteController(journal, data_plane, uplink, settings)))


def linux_driver(
    prefix: str, lan_netns: str | None, wan_netns: str | None, lan_pool: str, transit_pool: str
) -> Driver:
    """The linux data plane between two existing namespaces (the site's LAN and WAN sides)."""
    from edgewise.site.drivers.linux import LinuxDriver, SiteNetwork

    if not lan_netns or not wan_netns:
        raise CliError("--driver linux needs --lan-netns and --wan-netns")
    try:
        site = SiteNetwork(
            prefix, lan_netns, wan_netns, IPv4Network(lan_pool), IPv4Network(transit_pool)
        )
        return LinuxDriver(site)
    except ValueError as exc:
        raise CliError(f"--driver linux: {exc}") from exc
    except SiteError as exc:
        raise CliError(f"--driver linux: {exc.message}") from exc


async def serve(controller: SiteController) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with controller:
        await stop.wait()
