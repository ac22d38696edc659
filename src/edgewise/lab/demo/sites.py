"""The demo's sites, from creation to clean-up: each created through the API, enrolled with its
one-time token and run as its own site-controller process (with the linux driver, inside its
`sitelab`); `close` stops the processes and removes the labs.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from edgewise.lab.demo import sitelab, software
from edgewise.lab.demo.operator import CentralApi
from edgewise.lab.errors import LabError


@dataclass
class DemoSite:
    name: str
    prefix: str
    site_id: str = ""
    token: str = ""
    process: subprocess.Popen[bytes] | None = None
    lab: sitelab.SiteLab | None = None
    row: dict[str, str] = field(default_factory=dict)  # its line in the results (`traffic`)


@dataclass
class DemoFleet:
    """The demo's sites: their site-controller processes and, with linux, their labs."""

    data_dir: Path
    count: int
    linux: bool
    sites: list[DemoSite] = field(default_factory=list)
    reconcile_interval: float = 2.0  # the site controllers' settings
    counters_interval: float = 1.0

    def add_sites(self, client: CentralApi, tenant_id: str) -> None:
        """Creates the sites `branch-1`... through the API; their namespaces' prefix is fresh."""
        run = secrets.token_hex(2)
        for index in range(self.count):
            made = client.post_json(
                "api/v1/sites",
                {
                    "name": f"branch-{index + 1}",
                    "kind": "on-premise",
                    "tenantId": tenant_id,
                    "labels": {"region": "eu-west", "environment": "production"},
                },
            )
            self.sites.append(
                DemoSite(
                    made["name"], f"e{run}{index:x}", made["id"], made["enrollmentToken"]["token"]
                )
            )

    def start_controllers(self, central: dict[str, Any], console: Console) -> None:
        """Enrolls every site with its one-time token (with linux, in its lab, built first),
        then starts its controller: `central` is what `GET api/v1/central` says of it."""
        console.print(f"starting {self.count} site controllers ({self.driver_name} driver) ...")
        enrolling = []
        for site in self.sites:
            site_dir = self.data_dir / site.name
            if self.linux:
                site.lab = sitelab.SiteLab(site.prefix)
                site.lab.build()
            enrolling.append(
                subprocess.Popen(  # noqa: S603 - our interpreter and module
                    [
                        sys.executable,
                        "-m",
                        "edgewise",
                        "site-controller",
                        "enroll",
                        f"--central={central['southboundUrl']}",
                        f"--token={site.token}",
                        f"--data-dir={site_dir}",
                        f"--ca-fingerprint={central['caFingerprint']}",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
            )
        for site, proc in zip(self.sites, enrolling, strict=True):
            out, _ = proc.communicate(timeout=60)
            if proc.returncode:
                raise LabError(f"{site.name} did not enroll: {out.decode().strip()[-300:]}")
        for site in self.sites:
            self.start_controller(site)
        console.print(
            "enrolled (mutual TLS from now on): "
            + ", ".join(f"{s.name} (pid {s.process.pid if s.process else '-'})" for s in self.sites)
        )

    def start_controller(self, site: DemoSite) -> int:
        """Runs `site`'s (enrolled) controller as its own process; its pid."""
        site_dir = self.data_dir / site.name
        argv = [  # the slim entry, as a site runs for good
            sys.executable,
            "-m",
            "edgewise.site",
            "run",
            f"--data-dir={site_dir}",
            "--first-poll-max-delay=0",
            f"--reconcile-interval={self.reconcile_interval:g}",
            f"--counters-interval={self.counters_interval:g}",
            f"--driver={self.driver_name}",
        ]
        if site.lab is not None:
            argv += [
                f"--site-prefix={site.prefix}",
                f"--lan-netns={site.lab.lan}",
                f"--wan-netns={site.lab.wan}",
                f"--lan-pool={sitelab.LAN_PREFIX}",
            ]
        with (site_dir / "controller.log").open("ab") as log:
            site.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        return site.process.pid

    def stop_controller(self, site: DemoSite) -> int:
        """Stops `site`'s controller (SIGTERM to its pid, SIGKILL after 10 s); the pid it had."""
        process = site.process
        if process is None or process.poll() is not None:
            raise LabError(f"{site.name}: its site controller is not running")
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return process.pid

    @property
    def driver_name(self) -> str:
        return "linux" if self.linux else "sim"

    def close(self) -> None:
        for site in self.sites:
            if site.process is not None and site.process.poll() is None:
                site.process.terminate()
        for site in self.sites:
            if site.process is not None:
                try:
                    site.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    site.process.kill()
                    site.process.wait()
        failures = []
        for site in self.sites:
            if site.lab is not None:
                software.remove_leftovers(site.prefix)  # a run cut short: programs outlive it
                try:
                    site.lab.close()
                except LabError as exc:  # the other sites' labs are still removed
                    failures.append(exc.message)
        if failures:
            raise LabError("; ".join(failures))
