"""`python -m edgewise.site run --data-dir DIR`: the site controller's own slim process entry.

The same controller and options as `edgewise site-controller run` (which builds it through
`build_controller` here), without the command line around it: this process imports the
controller, journal, uplink (aiohttp) and its driver only — no typer, rich, httpx, FastAPI,
SQLAlchemy or TOSCA loader — so that an idle site costs as little memory as it can.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sqlite3
import sys
from dataclasses import dataclass
from ipaddress import IPv4Network
from pathlib import Path

from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.base import Driver
from edgewise.site.errors import NotEnrolled, PermanentError, SiteError
from edgewise.site.filemodes import make_private, private_directory
from edgewise.site.journal import OUTBOX_LIMIT, Journal
from edgewise.site.uplink import Uplink

DRIVERS = ("sim", "linux")
INSTALL_PACKAGES_ENV = "EDGEWISE_SITE_INSTALL_PACKAGES"
YES = ("1", "true", "yes", "on")
NO = ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class RunOptions:
    """What `run` is given; the defaults are the command line's."""

    data_dir: Path
    driver: str = "sim"
    sim_latency: float = 0.0
    sim_failure_rate: float = 0.0
    seed: int | None = None
    site_prefix: str = "ew"
    lan_netns: str | None = None
    wan_netns: str | None = None
    lan_pool: str = "172.16.0.0/12"
    transit_pool: str = "10.255.0.0/16"
    reconcile_interval: float = 5.0
    first_poll_max_delay: float = 10.0
    outbox_limit: int = OUTBOX_LIMIT
    counters_interval: float = 60.0
    allow_package_install: bool = False  # or EDGEWISE_SITE_INSTALL_PACKAGES=1


def open_journal(data_dir: Path, outbox_limit: int = OUTBOX_LIMIT) -> Journal:
    try:
        private_directory(data_dir)
        return Journal.open(data_dir / "journal.db", outbox_limit=outbox_limit)
    except (OSError, sqlite3.Error) as exc:
        raise PermanentError(f"cannot open the journal in {data_dir}: {exc}") from exc


def build_controller(options: RunOptions) -> SiteController:
    """The enrolled site's controller: journal, uplink and driver, or a SiteError saying why not."""
    journal = open_journal(options.data_dir, options.outbox_limit)
    try:
        uplink = site_uplink(journal)
        data_plane = build_driver(options)
    except BaseException:
        journal.close()
        raise
    settings = ControllerSettings(
        reconcile_interval=options.reconcile_interval,
        first_poll_max_delay=options.first_poll_max_delay,
        counters_interval=options.counters_interval,
        seed=options.seed,
    )
    return SiteController(journal, data_plane, uplink, settings)


def site_uplink(journal: Journal) -> Uplink:
    identity = journal.identity()
    if identity is None:
        raise NotEnrolled(
            f"{journal.path.parent} holds no enrolled site: run `site-controller enroll` first"
        )
    try:
        make_private(identity.key_path.parent, identity.key_path, identity.cert_path)
        make_private(identity.ca_path)
        return Uplink(identity)
    except (OSError, ValueError) as exc:
        raise PermanentError(f"cannot load the site's key or certificates: {exc}") from exc


def build_driver(options: RunOptions) -> Driver:
    """The sim driver, or the linux data plane between two existing namespaces (the site's LAN
    and WAN sides); each is imported only when chosen."""
    if options.driver == "sim":
        from edgewise.site.drivers.sim import SimDriver

        return SimDriver(options.sim_latency, options.sim_failure_rate, options.seed or 0)
    if options.driver != "linux":
        raise PermanentError(f"--driver must be one of {', '.join(DRIVERS)}")
    from edgewise.site.drivers.linux import LinuxDriver, SiteNetwork

    if not options.lan_netns or not options.wan_netns:
        raise PermanentError("--driver linux needs --lan-netns and --wan-netns")
    try:
        site = SiteNetwork(
            options.site_prefix,
            options.lan_netns,
            options.wan_netns,
            IPv4Network(options.lan_pool),
            IPv4Network(options.transit_pool),
        )
        return LinuxDriver(site, may_install_packages=may_install_packages(options))
    except ValueError as exc:
        raise PermanentError(f"--driver linux: {exc}") from exc
    except SiteError as exc:
        raise PermanentError(f"--driver linux: {exc.message}") from exc


def may_install_packages(options: RunOptions) -> bool:
    """Whether third-party VNFs' missing Debian packages are installed with apt-get: off unless
    --allow-package-install or EDGEWISE_SITE_INSTALL_PACKAGES says so."""
    value = os.environ.get(INSTALL_PACKAGES_ENV, "").strip().lower()
    if value not in YES + NO:
        raise PermanentError(
            f"{INSTALL_PACKAGES_ENV}={value!r}: say 1/true/yes/on or 0/false/no/off"
        )
    return options.allow_package_install or value in YES


async def serve(controller: SiteController) -> None:
    """Runs `controller` until SIGINT or SIGTERM, then stops it cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with controller:
        await stop.wait()


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m edgewise.site",
        description="The site controller (slim entry; enroll with `edgewise site-controller`).",
    )
    commands = p.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the site controller until SIGINT or SIGTERM")
    d = RunOptions(Path())
    run.add_argument("--data-dir", type=Path, required=True, help="the site's state directory")
    run.add_argument("--driver", choices=DRIVERS, default=d.driver, help="the data plane")
    options: list[tuple[str, type, str]] = [
        ("--sim-latency", float, "sim: mean seconds per change"),
        ("--sim-failure-rate", float, "sim: chance that a change fails"),
        ("--seed", int, "seed of the sim and the jitter"),
        ("--site-prefix", str, "linux: prefix of every kernel object of this site (1-6 a-z0-9)"),
        ("--lan-netns", str, "linux: namespace of the site's LAN side"),
        ("--wan-netns", str, "linux: namespace of the site's WAN side"),
        ("--lan-pool", str, "linux: block the services' LAN subnets (/24 each) come from"),
        ("--transit-pool", str, "linux: block the chains' /31 links (a /28 per service) come from"),
        ("--reconcile-interval", float, "seconds between reconcile passes"),
        ("--first-poll-max-delay", float, "random wait of up to this many seconds before polling"),
        ("--outbox-limit", int, "unsent reports kept while the central is away (at least 3)"),
        ("--counters-interval", float, "at most one counters report per this many seconds"),
    ]
    for flag, kind, text in options:
        default = getattr(d, flag[2:].replace("-", "_"))
        run.add_argument(flag, type=kind, default=default, help=f"{text} (default: {default})")
    run.add_argument("--allow-package-install", action="store_true",
                     help=f"linux: install third-party VNFs' missing Debian packages with apt-get "
                     f"(default: off; or {INSTALL_PACKAGES_ENV}=1)")  # fmt: skip
    return p


def main(argv: list[str]) -> int:
    """Exit status 0 after a clean stop, 1 when the site cannot run, 2 for a usage error."""
    command = parser()
    args = vars(command.parse_args(argv))
    args.pop("command")
    options = RunOptions(**args)
    if options.sim_latency < 0 or not 0 <= options.sim_failure_rate <= 1:
        command.error("--sim-latency must be >= 0 and --sim-failure-rate within 0..1")
    if options.reconcile_interval < 0.1 or options.first_poll_max_delay < 0:
        command.error("--reconcile-interval must be >= 0.1 and --first-poll-max-delay >= 0")
    if options.outbox_limit < 3:
        command.error("--outbox-limit must be at least 3")
    configure_logging()
    try:
        controller = build_controller(options)
    except SiteError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        return 1
    asyncio.run(serve(controller))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
