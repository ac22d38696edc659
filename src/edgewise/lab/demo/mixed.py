"""The demo's third-party VNF step, at the first site once the vCPE is gone: the SOL004 packages
of FRR and dnsmasq (the source tree's samples/) and a mixed-chain NSD (native firewall → FRR →
dnsmasq) onboarded with the CLI, the NS instantiated with the CLI and the VNFs' parameters,
the site's report of each program ready, and real traffic through the chain: DNS answered by
the dnsmasq VNF (a blocked domain NXDOMAIN, an allowed one from the internet's resolver) and
TCP to the internet host routed by FRR's namespace. Then terminated, nothing left."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from edgewise.lab import samples
from edgewise.lab.demo import sitelab, software
from edgewise.lab.demo.operator import CentralApi
from edgewise.lab.demo.sites import DemoSite
from edgewise.lab.errors import LabError

INVARIANT_ID = "edgewise-mixed-chain"
HOST = "192.168.10.11/24"  # the step's own LAN host (the vCPE's is gone with its bridge)
THIRD_PARTY = {"router", "dns"}
WEB = 443  # served on the internet host by this step (the vCPE step's servers hold 80 and 25)


def onboard(edgewise: Callable[..., None], client: CentralApi) -> str:
    """The two packages and the NSD through the CLI; the NSD's id."""
    edgewise("catalog", "onboard", str(samples.third_party("frr")),
             str(samples.third_party("dnsmasq")), str(samples.path(samples.MIXED_NSD)))  # fmt: skip
    return next(
        str(n["id"])
        for n in client.list_all("nsd/v1/ns_descriptors")
        if n.get("nsdInvariantId") == INVARIANT_ID
    )


def instantiate(
    edgewise: Callable[..., None], client: CentralApi, site: DemoSite, nsd: str, tenant_id: str
) -> str:
    """The NS created and instantiated at `site` through the CLI, with its VNFs' parameters
    (`--vnf-param`, SOL005 additionalParamsForVnf); its id once the operation is COMPLETED."""
    ns = client.post_json("nslcm/v1/ns_instances", {
        "nsdId": nsd, "nsName": "mixed", "tenantId": tenant_id,
        "nsDescription": "firewall, then FRR and dnsmasq from their SOL004 packages"})  # fmt: skip
    edgewise("ns", "instantiate", str(ns["id"]), "--site", site.site_id, "--timeout=60",
             *vnf_param_options())  # fmt: skip
    return str(ns["id"])


def vnf_param_options() -> list[str]:
    """`--vnf-param VNF.input=JSON` for each of the VNFs' parameters."""
    return [
        option
        for entry in software.vnf_params()
        for key, value in entry["additionalParams"].items()
        for option in ("--vnf-param", f"{entry['vnfProfileId']}.{key}={json.dumps(value)}")
    ]


def plug_host(lab: sitelab.SiteLab) -> str:
    """A LAN host on the service's bridge (slot 0: the only service at the site now)."""
    host = f"{lab.prefix}-mix"
    sitelab.ip("netns", "add", host)
    sitelab.ip("-n", host, "link", "set", "lo", "up")
    sitelab.ip("-n", host, "link", "add", "eth0", "type", "veth", "peer", "name",
               f"{lab.prefix}m", "netns", lab.lan)  # fmt: skip
    sitelab.ip("-n", lab.lan, "link", "set", f"{lab.prefix}m", "master", f"{lab.prefix}b0000", "up")
    sitelab.ip("-n", host, "addr", "add", HOST, "dev", "eth0")
    sitelab.ip("-n", host, "link", "set", "eth0", "up")
    sitelab.ip("-n", host, "route", "add", "default", "via",
               str(next(sitelab.LAN_PREFIX.hosts())))  # fmt: skip
    return host


def show_vnfs(console: Console, states: dict[str, dict[str, Any]], seconds: float) -> None:
    console.print(f"every program ready [bold]{seconds:.1f} s[/bold] after the instantiate call")
    table = Table(title="third-party VNFs as the site reports them", title_justify="left")
    for column in ("VNF", "state", "program", "pid", "restarts", "CPU / memory limit"):
        table.add_column(column)
    for name, state in sorted(states.items()):
        for program, p in state.get("programs", {}).items():
            limits = p.get("limits") or {}
            shown = "not enforced"
            if limits:
                cpu = limits["cpu_quota_us"] / limits["cpu_period_us"]
                shown = f"{cpu:.2f} CPU / {limits['memory_limit_bytes'] >> 20} MiB"
            table.add_row(name, str(p.get("state")), program, str(p.get("pid")),
                          str(p.get("restarts")), shown)  # fmt: skip
    console.print(table)


def traffic(console: Console, lab: sitelab.SiteLab, host: str, site: DemoSite) -> bool:
    """DNS through the dnsmasq VNF and TCP to the internet host; true when all went as the
    chain says."""
    server = software.lan_address(f"{site.prefix}-0000-dns")
    allowed = software.dig(host, server, software.ALLOWED)
    blocked = software.dig(host, server, software.BLOCKED)
    tcp = lab.probe(host, sitelab.INTERNET_HOST, WEB)
    names = {
        str(next(sitelab.LAN_PREFIX.hosts())): "firewall",
        software.lan_address(f"{site.prefix}-0000-router"): "router",
        server: "dns",
        software.wan_peer(f"{site.prefix}-0000-dns"): "WAN",
        sitelab.INTERNET_HOST: "internet",
    }
    path = [names.get(hop, hop) for hop in software.trace(host, sitelab.INTERNET_HOST)]
    in_order = [hop for hop in path if hop in ("firewall", "router", "dns")]
    table = Table(title=f"traffic from a LAN host through firewall → FRR (router) → dnsmasq (dns, "
                        f"at {server})", title_justify="left")  # fmt: skip
    for column in ("flow", "answer", "expected"):
        table.add_column(column)
    rows = [
        (f"DNS {software.ALLOWED} @{server}", allowed,
         software.ANSWERS["allowed.example"]),
        (f"DNS {software.BLOCKED} (blocked domain)", blocked, "NXDOMAIN"),
        (f"TCP {sitelab.INTERNET_HOST}:{WEB} through the chain",
         f"passed, {tcp.bytes_received:,} bytes" if tcp.passed else "FAILED", "passed"),
        ("ICMP echo's path, hop by hop", " → ".join(path) or "-",
         "firewall → router → dns → …"),
    ]  # fmt: skip
    ok = [allowed == rows[0][2], blocked == "NXDOMAIN", tcp.passed,
          in_order == ["firewall", "router", "dns"] and path[-1:] == ["internet"]]  # fmt: skip
    for (flow, answer, expected), good in zip(rows, ok, strict=True):
        table.add_row(flow, answer if good else f"[red]{answer}[/red]", expected)
    console.print(table)
    return all(ok)


def run_mixed(
    console: Console,
    client: CentralApi,
    edgewise: Callable[..., None],
    site: DemoSite,
    tenant_id: str,
) -> None:
    """The step at `site` (with its linux lab, its vCPE terminated); raises LabError when a
    VNF is not ready or the traffic does not go as the chain says."""
    lab = site.lab
    if lab is None:
        console.print("[yellow]no linux data plane: the third-party VNF step needs one[/yellow]")
        return
    nsd = onboard(edgewise, client)
    edgewise("site", "update", site.name, "--slots-per-node=4")  # three VNFs on one node
    software.upstream_resolver(lab)
    lab.serve(lab.internet, WEB)
    params = "; ".join(
        f"{p['vnfProfileId']}: " + ", ".join(f"{k}={v}" for k, v in p["additionalParams"].items())
        for p in software.vnf_params()
    )
    console.print(f"instantiating with the VNFs' parameters ({params}) ...")
    began = time.monotonic()
    ns_id = instantiate(edgewise, client, site, nsd, tenant_id)
    states = software.wait_ready(client, site.site_id, ns_id, THIRD_PARTY, within=60)
    show_vnfs(console, states, time.monotonic() - began)
    host = plug_host(lab)
    try:
        passed = traffic(console, lab, host, site)
    finally:
        subprocess.run(["ip", "netns", "del", host], check=False, capture_output=True)  # noqa: S603, S607
    console.rule("terminating the mixed chain: the site stops its programs and removes them")
    edgewise("ns", "terminate", ns_id, "--timeout=60")
    software.wait_gone(client, site.site_id, ns_id, within=15)
    if not passed:
        raise LabError(f"{site.name}: the traffic through the mixed chain did not go as it says")
