"""The demo, as `edgewise demo` runs it: the main job on one machine — a central on SQLite, the
sample catalog, five site controllers as separate processes, the vCPE NSD instantiated on all of
them through the SOL005 API, and real traffic through each site's firewall and NAT (`sitelab`);
then SD-WAN and a mixed chain with third-party VNFs at the first site, and a site gone silent
raising an alarm that its return clears. It works through what the
`operator` hands it: the CLI's console, client and commands."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from edgewise.lab import samples
from edgewise.lab.central import free_port, local_central
from edgewise.lab.demo import alarms, sitelab
from edgewise.lab.demo.mixed import run_mixed
from edgewise.lab.demo.operator import CentralApi, Operator
from edgewise.lab.demo.sdwan import run_sdwan
from edgewise.lab.demo.sites import DemoFleet
from edgewise.lab.demo.traffic import show_results, verify
from edgewise.lab.errors import LabError

VCPE_INVARIANT_ID = "edgewise-vcpe"
DRIVERS = ("auto", "linux", "sim")


def run_demo(operator: Operator, *, sites: int, driver: str, keep: bool) -> None:
    """A central, the sample catalog, `sites` sites (each its own site-controller process), the
    vCPE NSD instantiated on all of them, and real traffic sent through each site's service.

    `driver` is one of DRIVERS: the sites' data plane, auto meaning linux when this machine can
    build it; `keep` keeps the demo's data directory afterwards."""
    console = operator.console
    if not all(sample.exists() for sample in samples.catalog()):
        raise LabError(f"the sample descriptors are missing ({samples.path()})")
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
    fleet = DemoFleet(data_dir, sites, linux=why_not is None)
    verified = 0
    try:
        console.print(
            "starting the central manager (embedded SQLite store; for the demo, a site is "
            f"offline after {alarms.OFFLINE_AFTER_S} s of silence) ..."
        )
        with local_central(data_dir, free_port(), env=alarms.CENTRAL_ENV) as url:
            verified = _steps(operator, fleet, url, (data_dir / "admin.token").read_text().strip())
    finally:
        fleet.close()
        if keep:
            console.print(f"demo data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    if verified < sites:
        raise LabError(f"{verified}/{sites} sites verified; see the table above")
    console.print(
        "[green]demo complete[/green]: the central and the sites stopped, the demo's "
        "namespaces removed"
    )


def _steps(operator: Operator, fleet: DemoFleet, url: str, token: str) -> int:
    """The demo against a central that is up: how many sites it verified."""
    console = operator.console

    def edgewise(*args: str) -> None:  # the command line, as an operator types it
        operator.command(url, token, *args)

    client = operator.connect(url, token)
    try:
        console.print(f"[bold]central manager[/bold] up at {url} (store: {fleet.data_dir})")
        tenant = client.post_json("api/v1/tenants", {"name": "acme", "description": "demo"})
        console.print(f"tenant [bold]acme[/bold] created ({tenant['id']})")
        edgewise("catalog", "onboard", *[str(sample) for sample in samples.catalog()])
        nsd = next(
            n
            for n in client.list_all("nsd/v1/ns_descriptors")
            if n.get("nsdInvariantId") == VCPE_INVARIANT_ID
        )
        fleet.add_sites(client, tenant["id"])
        console.rule("the catalog")
        edgewise("catalog", "list")
        console.rule("the sites")
        edgewise("site", "list")
        fleet.start_controllers(client.get_json("api/v1/central"), console)
        ns = client.post_json(
            "nslcm/v1/ns_instances",
            {
                "nsdId": nsd["id"],
                "nsName": "vcpe",
                "tenantId": tenant["id"],
                "nsDescription": "firewall + NAT at every branch",
            },
        )
        console.rule(f"instantiating NSD '{nsd['nsdName']}' on {fleet.count} sites")
        edgewise(
            "ns",
            "instantiate",
            ns["id"],
            *[f"--site={s.site_id}" for s in fleet.sites],
            "--timeout=120",
        )
        console.rule("traffic through each site's service")
        verified = sum(verify(client, site, ns["id"]) for site in fleet.sites)
        show_results(console, fleet.sites, verified, linux=fleet.linux)
        if fleet.linux and fleet.sites:
            console.rule(f"SD-WAN at {fleet.sites[0].name}: three WAN links, steering, a blackout")
            run_sdwan(console, client, edgewise, fleet.sites[0], ns["id"])
        console.rule("terminating the NS: every site removes its service")
        edgewise("ns", "terminate", ns["id"], "--timeout=60")
        silent = _silence_early(console, fleet)
        if fleet.linux and fleet.sites:
            console.rule(f"third-party VNFs at {fleet.sites[0].name}: firewall → FRR → dnsmasq")
            run_mixed(console, client, edgewise, fleet.sites[0], tenant["id"])
        _alarms(console, client, edgewise, fleet, silent)
    finally:
        client.close()
    return verified


def _silence_early(console: Console, fleet: DemoFleet) -> alarms.Silence | None:
    """The last site's controller stopped now when another site carries the next step, so that
    the wait for its alarm overlaps that step; None when there is no other site."""
    if fleet.count < 2:
        return None
    quiet = fleet.sites[-1]
    console.rule(f"alarms: {quiet.name} goes silent")
    return alarms.silence(console, fleet, quiet)


def _alarms(
    console: Console,
    client: CentralApi,
    edgewise: Callable[..., None],
    fleet: DemoFleet,
    silent: alarms.Silence | None,
) -> None:
    """The silent site's alarm raised as a root and cleared on its return; with linux, the
    first site's MPLS link: the LINK_DOWN its blackout raised, and its last minutes."""
    if not fleet.sites:
        return
    quiet = fleet.sites[-1]
    console.rule(f"alarms: {quiet.name} offline, a root cause; back, cleared")
    alarms.follow(console, client, edgewise, fleet, silent or alarms.silence(console, fleet, quiet))
    if fleet.linux:
        first = fleet.sites[0].name
        console.rule(f"{first}'s MPLS link: its alarm and its history, the blackout included")
        alarms.link_recovered(console, client, fleet.sites[0], "mpls")
        edgewise("alarm", "list", "--all", f"--site={first}", "--kind=link_down")
        edgewise("site", "links", first, "--history", "mpls", "--since=10m", "--step=1m")
