"""`edgewise site-controller enroll|run`: enroll this site with the central, then run it."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from edgewise.cli.errors import CliError
from edgewise.site.__main__ import RunOptions, build_controller, configure_logging, serve
from edgewise.site.__main__ import open_journal as site_journal
from edgewise.site.errors import SiteError
from edgewise.site.journal import OUTBOX_LIMIT, Journal
from edgewise.site.uplink import CentralTrust, enroll

app = typer.Typer(
    help="The site controller: enroll this site, then run its services.",
    no_args_is_help=True,
)
DataDir = Annotated[Path, typer.Option("--data-dir", help="the site's state directory")]


class DriverKind(StrEnum):
    SIM = "sim"
    LINUX = "linux"


def open_journal(data_dir: Path) -> Journal:
    try:
        return site_journal(data_dir)
    except SiteError as exc:
        raise CliError(exc.message) from exc


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
    outbox_limit: Annotated[
        int, typer.Option(min=3, help="unsent reports kept while the central is away")
    ] = OUTBOX_LIMIT,
    counters_interval: Annotated[
        float, typer.Option(min=0, help="at most one counters report per this many seconds")
    ] = 60.0,
    allow_package_install: Annotated[
        bool,
        typer.Option(
            help="linux: apt-get the Debian packages a third-party VNF lacks "
            "(or EDGEWISE_SITE_INSTALL_PACKAGES=1)"
        ),
    ] = False,
) -> None:
    """Runs the site controller until interrupted (SIGINT or SIGTERM).

    `python -m edgewise.site run` takes the same options without the rest of the CLI loaded
    (about 37 MB resident instead of 56 MB): the way to run a site for good.
    """
    configure_logging()
    options = RunOptions(
        data_dir, driver.value, sim_latency, sim_failure_rate, seed, site_prefix, lan_netns,
        wan_netns, lan_pool, transit_pool, reconcile_interval, first_poll_max_delay, outbox_limit,
        counters_interval, allow_package_install,
    )  # fmt: skip
    try:
        controller = build_controller(options)
    except SiteError as exc:
        raise CliError(exc.message) from exc
    asyncio.run(serve(controller))
