"""The demo, as `edgewise demo` runs it: the main job on one machine — a central on SQLite, the
sample catalog, five site controllers as separate processes, the vCPE NSD instantiated on all of
them through the SOL005 API, and real traffic through each site's firewall and NAT (`sitelab`).
It works through what the `operator` hands it: the CLI's console, client and commands."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from edgewise.lab.central import free_port, local_central
from edgewise.lab.demo import sitelab
from edgewise.lab.demo.operator import CentralApi, Operator
from edgewise.lab.errors import LabError

SAMPLES = Path(__file__).resolve().parents[4] / "samples"
VCPE_INVARIANT_ID = "edgewise-vcpe"
DRIVERS = ("auto", "linux", "sim")


def run_demo(operator: Operator, *, sites: int, driver: str, keep: bool) -> None:
    """A central, the sample catalog, `sites` sites (each its own site-controller process), the
    vCPE NSD instantiated on all of them, and real traffic sent through each site's service.

    `driver` is one of DRIVERS: the sites' data plane, auto meaning linux when this machine can
    build it; `keep` keeps the demo's data directory afterwards."""
    console = operator.console
    if not SAMPLES.is_dir():
        raise LabError(f"the sample descriptors are missing ({SAMPLES})")
    why_not = sitelab.unavailable() if driver != "sim" else "asked for the sim driver"
    if why_not and driver == "linux":
        raise LabError(f"--driver linux: this machine cannot build the data plane: {why_not}")
    if why_not and driver == "auto":
        console.print(
            f"[yellow]no linux data plane here ({why_not}): the same demo runs with the sim "
            "driver (no traffic to send)[/yellow]"
        )
    if not console.is_terminal:
        console.width = max(console.width, 120)  # logs and pipes: keep the tables readable
    data_dir = Path(tempfile.mkdtemp(prefix="edgewise-demo-"))
    fleet = DemoFleet(operator, data_dir, sites, linux=why_not is None)
    try:
        console.print("starting the central manager (embedded SQLite store) ...")
        with local_central(data_dir, free_port()) as url:
            fleet.run(url, (data_dir / "admin.token").read_text().strip())
    finally:
        fleet.close()
        if keep:
            console.print(f"demo data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    if fleet.verified < sites:
        raise LabError(f"{fleet.verified}/{sites} sites verified; see the table above")
    console.print(
        "[green]demo complete[/green]: the central and the sites stopped, the demo's "
        "namespaces removed"
    )


@dataclass
class DemoSite:
    name: str
    prefix: str
    site_id: str = ""
    token: str = ""
    process: subprocess.Popen[bytes] | None = None
    lab: sitelab.SiteLab | None = None
    row: dict[str, str] = field(default_factory=dict)


@dataclass
class DemoFleet:
    """The demo's sites: their site-controller processes and, with linux, their labs."""

    operator: Operator
    data_dir: Path
    count: int
    linux: bool
    sites: list[DemoSite] = field(default_factory=list)
    verified: int = 0
    ns_id: str = ""

    def run(self, url: str, token: str) -> None:
        console = self.operator.console

        def edgewise(*args: str) -> None:  # the command line, as an operator types it
            self.operator.command(url, token, *args)

        client = self.operator.connect(url, token)
        try:
            console.print(f"[bold]central manager[/bold] up at {url} (store: {self.data_dir})")
            tenant = client.post_json("api/v1/tenants", {"name": "acme", "description": "demo"})
            console.print(f"tenant [bold]acme[/bold] created ({tenant['id']})")
            samples = sorted(p for p in SAMPLES.iterdir() if not p.name.startswith("."))
            edgewise(
                "catalog",
                "onboard",
                *[str(p) for p in samples if p.is_dir() or p.suffix in (".yaml", ".yml")],
            )
            nsd = next(
                n
                for n in client.list_all("nsd/v1/ns_descriptors")
                if n.get("nsdInvariantId") == VCPE_INVARIANT_ID
            )
            self._add_sites(client, tenant["id"])
            console.rule("the catalog")
            edgewise("catalog", "list")
            console.rule("the sites")
            edgewise("site", "list")
            self._start_controllers(client.get_json("api/v1/central"))
            ns = client.post_json(
                "nslcm/v1/ns_instances",
                {
                    "nsdId": nsd["id"],
                    "nsName": "vcpe",
                    "tenantId": tenant["id"],
                    "nsDescription": "firewall + NAT at every branch",
                },
            )
            self.ns_id = ns["id"]
            console.rule(f"instantiating NSD '{nsd['nsdName']}' on {self.count} sites")
            edgewise(
                "ns",
                "instantiate",
                ns["id"],
                *[f"--site={s.site_id}" for s in self.sites],
                "--timeout=120",
            )
            console.rule("traffic through each site's service")
            for site in self.sites:
                self._verify(client, site)
            self._table()
            console.rule("terminating the NS: every site removes its service")
            edgewise("ns", "terminate", ns["id"], "--timeout=60")
        finally:
            client.close()

    def _add_sites(self, client: CentralApi, tenant_id: str) -> None:
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

    def _start_controllers(self, central: dict[str, Any]) -> None:
        console = self.operator.console
        console.print(f"starting {self.count} site controllers ({self._driver_name()} driver) ...")
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
            site_dir = self.data_dir / site.name
            argv = [  # the slim entry, as a site runs for good
                sys.executable,
                "-m",
                "edgewise.site",
                "run",
                f"--data-dir={site_dir}",
                "--first-poll-max-delay=0",
                "--reconcile-interval=2",
                "--counters-interval=1",
                f"--driver={self._driver_name()}",
            ]
            if site.lab is not None:
                argv += [
                    f"--site-prefix={site.prefix}",
                    f"--lan-netns={site.lab.lan}",
                    f"--wan-netns={site.lab.wan}",
                    f"--lan-pool={sitelab.LAN_PREFIX}",
                ]
            log = (site_dir / "controller.log").open("wb")
            site.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
            log.close()
        console.print(
            "enrolled (mutual TLS from now on): "
            + ", ".join(f"{s.name} (pid {s.process.pid if s.process else '-'})" for s in self.sites)
        )

    def _driver_name(self) -> str:
        return "linux" if self.linux else "sim"

    def _verify(self, client: CentralApi, site: DemoSite) -> None:
        status = client.get_json(f"api/v1/sites/{site.site_id}/status")
        services = status.get("detail", {}).get("services", [])
        vnfs = [v["name"] for s in services for v in s.get("vnfs", [])]
        up = status.get("inSync") and all(s.get("state") == "ready" for s in services)
        site.row = {
            "site": site.name,
            "VNFs": "+".join(vnfs) or "-",
            "state": "up" if up else str(status.get("state")),
        }
        if site.lab is None:
            site.row |= dict.fromkeys(
                ("allowed", "seen as", "blocked", "forward", "bytes", "counted"), "-"
            )
            self.verified += bool(up)
            return
        lab = site.lab
        lab.plug_hosts(f"{site.prefix}b0000", str(next(sitelab.LAN_PREFIX.hosts())))
        lab.serve(lab.internet, sitelab.ALLOWED_PORT, sitelab.BLOCKED_PORT)
        lab.serve(lab.lan_server, 80)
        allowed = lab.probe(lab.host, sitelab.INTERNET_HOST, sitelab.ALLOWED_PORT)
        blocked = lab.probe(lab.host, sitelab.INTERNET_HOST, sitelab.BLOCKED_PORT, size=1)
        forward = (
            lab.probe(lab.internet, allowed.seen_source, sitelab.FORWARDED_PORT)
            if allowed.passed
            else sitelab.Probe(passed=False)
        )
        natted = allowed.passed and allowed.seen_source != str(sitelab.LAN_HOST.ip)
        site.row |= {
            "allowed": "passed" if natted else "FAILED",
            "seen as": allowed.seen_source or "-",
            "blocked": "dropped" if not blocked.passed else "NOT DROPPED",
            "forward": "passed" if forward.passed else "FAILED",
            "bytes": f"{allowed.bytes_received + forward.bytes_received:,}",
            "counted": self._counted(client, site),
        }
        self.verified += bool(up and natted and not blocked.passed and forward.passed)

    def _counted(self, client: CentralApi, site: DemoSite, within: float = 10.0) -> str:
        """What the site's firewall counted, as its counters report reached the central: new
        flows accepted by its rules, packets dropped by its default policy."""
        deadline = time.monotonic() + within
        accepted = dropped = 0
        while time.monotonic() < deadline:
            services = client.get_json(f"api/v1/sites/{site.site_id}/counters")["services"]
            rules = services.get(self.ns_id, {}).get("firewall", {}).get("rules", {})
            accepted = sum(c["packets"] for n, c in rules.items() if n.startswith("rule-"))
            dropped = sum(c["packets"] for n, c in rules.items() if n.startswith("default-"))
            if accepted >= 2 and dropped >= 1:  # the allowed flow, the forward; the blocked one
                break
            time.sleep(0.5)
        return f"{accepted} / {dropped}"

    def _table(self) -> None:
        console = self.operator.console
        table = Table(
            title="tcp/80 out (allowed), tcp/25 out (blocked), wan:8080 → lan 192.168.10.20:80 "
            "(forward)",
            title_justify="left",
        )
        columns = ["site", "VNFs", "state", "allowed", "seen as", "blocked", "forward", "bytes",
                   "counted"]  # fmt: skip
        headers = {"seen as": "WAN sees", "bytes": "bytes through",
                   "counted": "site counters: new flows / dropped"}  # fmt: skip
        for column in columns:
            table.add_column(headers.get(column, column))
        for site in self.sites:
            table.add_row(*(site.row.get(c, "-") for c in columns))
        console.print(table)
        what = "traffic verified" if self.linux else "sim driver, no traffic to verify"
        colour = "green" if self.verified == self.count else "red"
        console.print(
            f"[{colour}]{self.verified}/{self.count} sites: service up, {what}[/{colour}]"
        )

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
            if site.lab is not None:
                site.lab.close()
