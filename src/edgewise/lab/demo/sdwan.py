"""The demo's SD-WAN step, on the first site, as an operator does it with the CLI: three WAN
links (MPLS, internet, LTE), application classes with an SLA profile and steering policies,
the service's firewall opened for them; then real flows show which link each application
leaves by, a silent blackout of MPLS is injected under a 1,000 packets/s voice stream, and the
gap and the move are printed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from edgewise.lab.demo import sitelab
from edgewise.lab.demo.operator import CentralApi
from edgewise.lab.demo.sites import DemoSite
from edgewise.lab.demo.wanworld import PROVIDERS, WanWorld, link_of
from edgewise.lab.errors import LabError

SIP, RTP, RSYNC, WEB = 5060, 16_500, 873, sitelab.ALLOWED_PORT
STREAM = 20_000  # a voice media port the stream's sink listens on
FIREWALL_RULES: list[dict[str, Any]] = [  # the sample's rules, and the three the classes need
    {"action": "accept", "protocol": "tcp", "port": 80, "source": str(sitelab.LAN_PREFIX)},
    {"action": "accept", "protocol": "tcp", "port": 443},
    {"action": "accept", "protocol": "icmp"},
    {"action": "accept", "protocol": "tcp", "port": 22, "direction": "inbound",
     "source": "198.51.100.0/24", "description": "operator SSH"},
    {"action": "accept", "protocol": "tcp", "port": 80, "direction": "inbound",
     "destination": "192.168.10.20/32", "description": "the web server the NAT publishes"},
    {"action": "accept", "protocol": "udp", "port": SIP, "description": "voice signalling"},
    {"action": "accept", "protocol": "udp", "port_range": [16_384, 32_767],
     "description": "voice media"},
    {"action": "accept", "protocol": "tcp", "port": RSYNC, "description": "backups"},
]  # fmt: skip
TARGETS = json.dumps([sitelab.INTERNET_HOST])  # probed by every link: beyond each provider
EXPECTED = {"voice (udp/5060)": "mpls", "voice media (udp/16500)": "mpls",
            "backup (tcp/873)": "lte", "web (tcp/80)": "inet"}  # fmt: skip


def configure(edgewise: Callable[..., None], site: DemoSite, ns_id: str) -> None:
    """Links, classes, SLA profile and policies through the CLI; the firewall opened."""
    for p in sorted(PROVIDERS, key=lambda p: p.link != "inet"):  # default traffic: the first
        edgewise("site", "link", "add", site.name, p.link, f"--kind={p.kind}",
                 f"--interface={p.interface}", f"--address={p.address}",
                 f"--gateway={p.gateway}", f"--set=probe.targets={TARGETS}")  # fmt: skip
    edgewise("sla", "add", "realtime", "--set=max_latency_ms=150", "--set=max_loss_percent=2")
    edgewise("app-class", "add", "voice", "--set=protocol=udp", f"--set=ports=[{SIP}]",
             "--set=port_ranges=[[16384,32767]]")  # fmt: skip
    edgewise("app-class", "add", "backup", "--set=protocol=tcp", f"--set=ports=[{RSYNC}]")
    edgewise("steering", "add", "voice", "--links=mpls,inet,lte", "--fleet", "--sla=realtime")
    edgewise("steering", "add", "backup", "--links=lte,inet", "--fleet")
    edgewise("ns", "update", ns_id, f"--set=firewall.rules={json.dumps(FIREWALL_RULES)}",
             "--timeout=120")  # fmt: skip


def wait_links_up(client: CentralApi, site: DemoSite, within: float = 90.0) -> list[Any]:
    """The site's links once it applied its desired state and reported every link up."""
    deadline = time.monotonic() + within
    links: list[Any] = []
    while time.monotonic() < deadline:
        status = client.get_json(f"api/v1/sites/{site.site_id}/status")
        links = client.get_json(f"api/v1/sites/{site.site_id}/links")
        states = [(link.get("reported") or {}).get("state") for link in links]
        if status.get("inSync") and len(states) == len(PROVIDERS) and set(states) == {"up"}:
            return links
        time.sleep(0.5)
    raise LabError(f"{site.name}: its links were not all reported up within {within:.0f} s "
                   f"({[(link['name'], link.get('reported')) for link in links]})")  # fmt: skip


def where_flows_go(world: WanWorld) -> dict[str, str]:
    """Application → the link it left by, as the far end saw it."""
    lab = world.lab
    return {
        "voice (udp/5060)": link_of(world.ask(SIP)),
        "voice media (udp/16500)": link_of(world.ask(RTP)),
        "backup (tcp/873)": link_of(lab.probe(lab.host, sitelab.INTERNET_HOST, RSYNC).seen_source),
        "web (tcp/80)": link_of(lab.probe(lab.host, sitelab.INTERNET_HOST, WEB).seen_source),
    }


def run_sdwan(
    console: Console,
    client: CentralApi,
    edgewise: Callable[..., None],
    site: DemoSite,
    ns_id: str,
) -> None:
    """The SD-WAN step on `site` (with its linux lab); raises LabError when traffic does not
    leave by the links the policies give, or the voice stream does not come back."""
    if site.lab is None:
        console.print("[yellow]no linux data plane: the SD-WAN step needs one[/yellow]")
        return
    world = WanWorld(site.lab)
    try:
        world.build()
        world.serve_udp(SIP, RTP)
        site.lab.serve(site.lab.internet, RSYNC)
        configure(edgewise, site, ns_id)
        wait_links_up(client, site)
        edgewise("site", "links", site.name)
        placed = where_flows_go(world)
        _show_placement(console, placed)
        if placed != EXPECTED:
            raise LabError(f"{site.name}: flows left by {placed}, the policies say {EXPECTED}")
        console.rule("silent blackout of MPLS (the provider drops everything, carrier up)")
        result = world.stream(STREAM, seconds=4.0, fault="mpls", at=1.0)
        moved = {link_of(source): count for source, count in result.sources.items()}
        console.print(
            f"voice stream, 1,000 packets/s: {result.received:,} of 4,000 received; by link "
            f"{moved}; longest gap [bold]{result.max_gap_ms:.0f} ms[/bold]"
        )
        after = link_of(world.ask(RTP))
        console.print(f"voice now leaves by [bold]{after}[/bold] (was mpls)")
        edgewise("site", "links", site.name)
        if after == "mpls" or not moved.get(after):
            raise LabError(f"{site.name}: voice did not move off the dead MPLS link ({moved})")
        world.blackout("mpls", on=False)
    finally:
        world.close()


def _show_placement(console: Console, placed: dict[str, str]) -> None:
    table = Table(title="applications → links (the source address the far end saw)")
    for column in ("application", "left by", "policy says"):
        table.add_column(column)
    for application, link in placed.items():
        expected = EXPECTED[application]
        shown = link if link == expected else f"[red]{link}[/red]"
        table.add_row(application, shown, expected)
    console.print(table)
