"""The dnsmasq sample: a LAN host gets its address, router and resolver by DHCP; a blocked
domain answers NXDOMAIN though the upstream (a hand-configured dnsmasq) knows it; an allowed
one resolves through the upstream."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from tests.samples.conftest import need
from tests.samples.harness import start_vnf
from tests.samples.lab import LAN_VNF, WAN_PEER, Lab

pytestmark = pytest.mark.slow
ALLOWED = ("www.allowed.example", "203.0.113.80")
BLOCKED = ("www.ads.example", "203.0.113.66")  # the upstream answers it; the VNF must not
UPSTREAM_CONF = f"""
interface=eth0
bind-interfaces
no-resolv
no-hosts
host-record={ALLOWED[0]},{ALLOWED[1]}
host-record={BLOCKED[0]},{BLOCKED[1]}
"""
# udhcpc calls this with the lease in its environment: note it, configure the interface
DHCP_SCRIPT = """#!/bin/sh
[ "$1" = bound ] || exit 0
env | grep -E '^(ip|mask|router|dns)=' > "$0.lease"
ip addr flush dev "$interface"
ip addr add "$ip/$mask" dev "$interface"
ip route replace default via "$router"
"""


def dig(lab: Lab, server: str, name: str) -> tuple[str, str]:
    """(status, answer) of an A query from the LAN host."""
    done = lab.run(lab.lan, "dig", "+time=2", "+tries=1", f"@{server}", name, "A")
    status = next(
        (
            line.split("status: ")[1].split(",")[0]
            for line in done.stdout.splitlines()
            if "status: " in line
        ),
        "no answer: " + done.stdout + done.stderr,
    )
    short = lab.run(lab.lan, "dig", "+short", "+time=2", "+tries=1", f"@{server}", name, "A")
    return status, short.stdout.strip()


def test_dnsmasq_leases_addresses_and_filters_names(lab: Lab, samples: Path, workdir: Path) -> None:
    need("dnsmasq-base", "dnsmasq")
    need("busybox", "busybox")
    need("bind9-dnsutils", "dig")
    (workdir / "upstream.conf").write_text(UPSTREAM_CONF)
    lab.spawn(
        lab.wan,
        [
            "dnsmasq",
            "--keep-in-foreground",
            f"--conf-file={workdir / 'upstream.conf'}",
            f"--pid-file={workdir / 'upstream.pid'}",
        ],
        workdir / "upstream.log",
    )
    lab.run(lab.lan, "ip", "addr", "flush", "dev", "eth0")  # the host has only what DHCP gives

    params = {
        "blocked_domains": "ads.example/tracker.example",
        "upstream_dns": WAN_PEER,
        "dhcp_first": "172.16.3.100",
        "dhcp_last": "172.16.3.150",
        "dhcp_lease": "1h",
    }
    vnf = start_vnf(lab, samples / "dnsmasq", params, workdir / "vnf")

    script = workdir / "udhcpc.sh"
    script.write_text(DHCP_SCRIPT)
    script.chmod(0o755)
    done = lab.run(
        lab.lan,
        "busybox",
        "udhcpc",
        "-i",
        "eth0",
        "-f",
        "-q",
        "-n",
        "-t",
        "5",
        "-T",
        "1",
        "-s",
        str(script),
        timeout=20,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lease = dict(line.split("=", 1) for line in Path(f"{script}.lease").read_text().split())
    address = ipaddress.IPv4Address(lease["ip"])
    assert ipaddress.IPv4Address("172.16.3.100") <= address <= ipaddress.IPv4Address("172.16.3.150")
    assert lease["router"] == LAN_VNF
    assert lease["dns"] == LAN_VNF

    assert dig(lab, lease["dns"], ALLOWED[0]) == ("NOERROR", ALLOWED[1])
    assert dig(lab, lease["dns"], BLOCKED[0]) == ("NXDOMAIN", "")
    assert dig(lab, lease["dns"], "cdn.tracker.example")[0] == "NXDOMAIN"
    # the block is the VNF's doing: the upstream itself answers the blocked name
    assert (
        lab.run(lab.wan, "dig", "+short", f"@{WAN_PEER}", BLOCKED[0]).stdout.strip() == BLOCKED[1]
    )

    # Day 2: another block list, applied by the package's reload mode (restart)
    params["blocked_domains"] = "allowed.example"
    vnf.modify(params)
    assert dig(lab, lease["dns"], ALLOWED[0]) == ("NXDOMAIN", "")
    assert dig(lab, lease["dns"], BLOCKED[0]) == ("NOERROR", BLOCKED[1])
