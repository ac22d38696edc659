"""Third-party VNFs at a demo site, for the demo's mixed-chain step and the software VNF
benchmark: the VNFs' parameters, what the site reports of them (their programs' readiness), a
VNF's LAN address as the kernel has it, the hand-configured upstream resolver on the internet
host, and what their programs leave behind when a run is cut short.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from ipaddress import IPv4Interface
from pathlib import Path
from typing import Any

from edgewise.lab.demo.operator import CentralApi
from edgewise.lab.demo.sitelab import INTERNET_HOST, LAN_PREFIX, SiteLab
from edgewise.lab.errors import LabError

SOFTWARE_BASE = Path("/var/lib/edgewise")  # <prefix>/software: the site's third-party VNFs
CGROUPS = (Path("/sys/fs/cgroup/cpu/edgewise"), Path("/sys/fs/cgroup/memory/edgewise"))
LAN_GROUP, WAN_GROUP = "225", "226"  # a VNF's LAN- and WAN-facing legs (the linux driver's)
ALLOWED, BLOCKED = "www.allowed.example", "www.ads.example"
ANSWERS = {"allowed.example": "198.51.100.80", "ads.example": "198.51.100.66"}  # upstream's


def vnf_params(*, dns: bool = True) -> list[dict[str, Any]]:
    """`additionalParamsForVnf` of the mixed chain (`dns=False`: of the firewall → FRR one).

    FRR's neighbour is the internet host, which runs no BGP speaker in the demo: bgpd runs and
    listens, and routes the chain's traffic (tests/integration/test_mixed_chain.py shows the
    routes FRR learns from a BIRD neighbour)."""
    hosts = list(LAN_PREFIX.hosts())
    params = [
        {
            "vnfProfileId": "router",
            "additionalParams": {
                "neighbour_address": INTERNET_HOST,
                "neighbour_as": 65002,
                "local_as": 65001,
            },
        }
    ]
    if dns:
        params.append(
            {
                "vnfProfileId": "dns",
                "additionalParams": {
                    "upstream_dns": INTERNET_HOST,
                    "blocked_domains": "ads.example",
                    "dhcp_first": str(hosts[99]),
                    "dhcp_last": str(hosts[149]),
                },
            }
        )
    return params  # fmt: skip


def software_states(client: CentralApi, site_id: str, ns_id: str) -> dict[str, dict[str, Any]]:
    """The NS's third-party VNFs at the site, as its last counters report says: VNF name →
    `counters.software` (state, reason, programs with pid, restarts, limits)."""
    services = client.get_json(f"api/v1/sites/{site_id}/counters").get("services", {})
    vnfs = services.get(ns_id, {})
    return {name: vnf["software"] for name, vnf in vnfs.items() if "software" in vnf}


def wait_ready(
    client: CentralApi, site_id: str, ns_id: str, names: set[str], *, within: float,
    poll: float = 0.1,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Polls until the site reports every VNF of `names` ready; raises LabError after
    `within` seconds, naming each VNF's state and reason."""
    deadline = time.monotonic() + within
    states: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        states = software_states(client, site_id, ns_id)
        if set(states) >= names and all(states[n].get("state") == "ready" for n in names):
            return states
        time.sleep(poll)
    seen = {n: f"{s.get('state')} ({s.get('reason')})" for n, s in states.items()}
    raise LabError(f"the third-party VNFs {sorted(names)} not ready within {within:.0f} s: {seen}")


def wait_gone(client: CentralApi, site_id: str, ns_id: str, *, within: float) -> None:
    """Polls until the site's counters no longer carry the NS's third-party VNFs."""
    deadline = time.monotonic() + within
    while software_states(client, site_id, ns_id):
        if time.monotonic() > deadline:
            raise LabError(f"the site still reports the NS's VNFs {within:.0f} s after terminate")
        time.sleep(0.1)


def lan_address(namespace: str) -> str:
    """The address of a VNF's LAN-facing leg in its namespace (the driver's interface group)."""
    return str(leg(namespace, LAN_GROUP).ip)


def wan_peer(namespace: str) -> str:
    """The other end of a VNF's WAN-facing /31: the next hop towards the WAN."""
    found = leg(namespace, WAN_GROUP)
    return str(next(a for a in found.network if a != found.ip))


def leg(namespace: str, group: str) -> IPv4Interface:
    """The address of a VNF's leg in interface `group` (LAN_GROUP, WAN_GROUP) as the kernel has
    it in the VNF's namespace."""
    done = subprocess.run(["ip", "-j", "-n", namespace, "addr", "show"],  # noqa: S603, S607
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode:
        raise LabError(f"cannot read the addresses of {namespace}: {done.stderr.strip()}")
    for link in json.loads(done.stdout or "[]"):
        if str(link.get("group")) == group:
            for address in link.get("addr_info", []):
                if address.get("family") == "inet":
                    return IPv4Interface(f"{address['local']}/{address['prefixlen']}")
    raise LabError(f"{namespace} has no leg in interface group {group} with an IPv4 address")


def upstream_resolver(lab: SiteLab) -> None:
    """A hand-configured dnsmasq on the internet host answering ANSWERS (the resolver the
    dnsmasq VNF forwards to); the lab stops it with its other servers."""
    argv = ["ip", "netns", "exec", lab.internet, "dnsmasq", "--keep-in-foreground",
            "--no-resolv", "--no-hosts", "--bind-interfaces", f"--listen-address={INTERNET_HOST}",
            "--pid-file=", "--user=root", "--log-facility=-"]  # fmt: skip
    argv += [f"--address=/{name}/{address}" for name, address in ANSWERS.items()]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # noqa: S603
    lab.servers.append(proc)
    assert proc.stderr is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # dnsmasq says "started" once it is bound
        line = proc.stderr.readline()
        if not line or "started" in line:
            break
    if proc.poll() is not None:
        raise LabError("the internet host's resolver (dnsmasq) did not start")


def dig(namespace: str, server: str, name: str) -> str:
    """`dig` from `namespace`: the answer's address, or its status (NXDOMAIN, timed out)."""
    done = subprocess.run(  # noqa: S603
        ["ip", "netns", "exec", namespace, "dig", "+time=1", "+tries=2", f"@{server}", name],  # noqa: S607
        capture_output=True, text=True, timeout=15, check=False,
    )  # fmt: skip
    if "status: NXDOMAIN" in done.stdout:
        return "NXDOMAIN"
    lines = [line.split() for line in done.stdout.splitlines() if not line.startswith(";")]
    answers = [words[-1] for words in lines if words[2:4] == ["IN", "A"]]
    return answers[0] if answers else "no answer"


TRACE = """
import os, socket, struct, sys, time
target, hops = sys.argv[1], int(sys.argv[2])
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
seen = []
with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
    s.settimeout(1.0)
    for ttl in range(1, hops + 1):
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        head = struct.pack("!BBHHH", 8, 0, 0, os.getpid() & 0xFFFF, ttl)
        s.sendto(struct.pack("!BBHHH", 8, 0, checksum(head + b"ew"), os.getpid() & 0xFFFF, ttl)
                 + b"ew", (target, 0))
        try:
            _, (source, _) = s.recvfrom(1500)
        except socket.timeout:
            source = "*"
        seen.append(source)
        if source == target:
            break
print(" ".join(seen))
"""


def trace(namespace: str, address: str, hops: int = 8) -> list[str]:
    """The routers an ICMP echo to `address` from `namespace` passes, in order (`*`: silent),
    ending with `address` when it answered (a traceroute by TTL)."""
    done = subprocess.run(  # noqa: S603
        ["ip", "netns", "exec", namespace, sys.executable, "-c", TRACE, address, str(hops)],  # noqa: S607
        capture_output=True, text=True, timeout=hops * 2 + 10, check=False,
    )  # fmt: skip
    return done.stdout.split()


def remove_leftovers(prefix: str) -> list[str]:
    """Stops the programs of the site's third-party VNFs (they outlive their controller, so a
    run cut short leaves them), removes their cgroups and the site's software directory; what
    it found, for the caller to say."""
    found: list[str] = []
    for root in CGROUPS:
        for group in sorted(root.glob(f"{prefix}-*")) if root.is_dir() else ():
            for program in [p for p in group.iterdir() if p.is_dir()]:
                for pid in (program / "cgroup.procs").read_text().split():
                    found.append(f"pid {pid}")
                    _kill(int(pid))
                _rmdir(program)
            _rmdir(group)
    base = SOFTWARE_BASE / prefix
    if base.exists():
        found.extend(p.name for p in (base / "software").glob("*") if p.is_dir())
        shutil.rmtree(base, ignore_errors=True)
    return found


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _rmdir(path: Path) -> None:
    for _ in range(20):  # a cgroup empties a moment after its last process died
        try:
            path.rmdir()
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)
        else:
            return
