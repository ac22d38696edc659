"""After the NS is instantiated, what the demo checks at each site and shows: real flows
through the site's service (allowed, blocked, port-forwarded) sent between its `sitelab`'s
hosts, what the site's counters reported to the central, and the results table.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from edgewise.lab.demo import sitelab
from edgewise.lab.demo.operator import CentralApi
from edgewise.lab.demo.sites import DemoSite


def verify(client: CentralApi, site: DemoSite, ns_id: str) -> bool:
    """Fills in the site's row; true when its service is up and, with linux, traffic passed
    and was dropped as the service's firewall and NAT say."""
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
        return bool(up)
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
        "counted": _counted(client, site, ns_id),
    }
    return bool(up and natted and not blocked.passed and forward.passed)


def _counted(client: CentralApi, site: DemoSite, ns_id: str, within: float = 10.0) -> str:
    """What the site's firewall counted, as its counters report reached the central: new
    flows accepted by its rules, packets dropped by its default policy."""
    deadline = time.monotonic() + within
    accepted = dropped = 0
    while time.monotonic() < deadline:
        services = client.get_json(f"api/v1/sites/{site.site_id}/counters")["services"]
        rules = services.get(ns_id, {}).get("firewall", {}).get("rules", {})
        accepted = sum(c["packets"] for n, c in rules.items() if n.startswith("rule-"))
        dropped = sum(c["packets"] for n, c in rules.items() if n.startswith("default-"))
        if accepted >= 2 and dropped >= 1:  # the allowed flow, the forward; the blocked one
            break
        time.sleep(0.5)
    return f"{accepted} / {dropped}"


def show_results(
    console: Console, sites: Sequence[DemoSite], verified: int, *, linux: bool
) -> None:
    """One row per site, and the line that says how many sites passed."""
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
    for site in sites:
        table.add_row(*(site.row.get(c, "-") for c in columns))
    console.print(table)
    what = "traffic verified" if linux else "sim driver, no traffic to verify"
    colour = "green" if verified == len(sites) else "red"
    console.print(f"[{colour}]{verified}/{len(sites)} sites: service up, {what}[/{colour}]")
