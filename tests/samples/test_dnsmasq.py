"""The dnsmasq sample on the real path (read by tosca.software, run by the linux driver,
confined and limited): a LAN host on the service's bridge gets its address, router and resolver
by DHCP; a blocked domain answers NXDOMAIN though the upstream (a hand-configured dnsmasq beyond
the WAN side) knows it; an allowed one resolves through the upstream; a new block list is
applied by the package's reload mode (restart)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.reconcile import ChangeOp
from tests.samples.conftest import need
from tests.samples.site import Peers, SampleVnf, check_limited, run
from tests.site.drivers.linux.software.test_dnsmasq import dhcp_host
from tests.site.drivers.netlab import INTERNET_HOST, Lab

pytestmark = [pytest.mark.slow, pytest.mark.anyio]
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


def dig(namespace: str, server: str, name: str) -> tuple[str, str]:
    """(status, answer) of an A query from `namespace`."""
    done = run(namespace, "dig", "+time=2", "+tries=1", f"@{server}", name, "A")
    status = next(
        (
            line.split("status: ")[1].split(",")[0]
            for line in done.stdout.splitlines()
            if "status: " in line
        ),
        "no answer: " + done.stdout + done.stderr,
    )
    short = run(namespace, "dig", "+short", "+time=2", "+tries=1", f"@{server}", name, "A")
    return status, short.stdout.strip()


async def test_dnsmasq_leases_addresses_and_filters_names(
    lab: Lab, driver: LinuxDriver, peers: Peers, workdir: Path
) -> None:
    need("dnsmasq-base", "dnsmasq")
    need("busybox", "busybox")
    need("bind9-dnsutils", "dig")
    (workdir / "upstream.conf").write_text(UPSTREAM_CONF)
    peers.spawn(lab.internet, ["dnsmasq", "--keep-in-foreground",
                               f"--conf-file={workdir / 'upstream.conf'}",
                               f"--pid-file={workdir / 'upstream.pid'}"], "upstream")  # fmt: skip

    vnf = SampleVnf(lab, driver, "dnsmasq")
    subnet = vnf.lan_subnet
    first, last = subnet.network_address + 100, subnet.network_address + 150
    params = {"blocked_domains": "ads.example/tracker.example", "upstream_dns": INTERNET_HOST,
              "dhcp_first": str(first), "dhcp_last": str(last), "dhcp_lease": "1h"}  # fmt: skip
    status = await vnf.start(params)
    check_limited(status, "dnsmasq", vnf.namespace, await vnf.pid("dnsmasq"))

    attachment = await vnf.attachment()
    host, leased = dhcp_host(lab, attachment.bridge, workdir)
    assert first <= ipaddress.IPv4Address(leased) <= last
    gateway = str(attachment.gateway.ip)
    assert dig(host, gateway, ALLOWED[0]) == ("NOERROR", ALLOWED[1])
    assert dig(host, gateway, BLOCKED[0]) == ("NXDOMAIN", "")
    assert dig(host, gateway, "cdn.tracker.example")[0] == "NXDOMAIN"
    # the block is the VNF's doing: the upstream itself answers the blocked name
    assert dig(lab.wan, INTERNET_HOST, BLOCKED[0]) == ("NOERROR", BLOCKED[1])

    # Day 2: another block list, applied by the package's reload mode (restart)
    pid = await vnf.pid("dnsmasq")
    results = await vnf.modify(params | {"blocked_domains": "allowed.example"})
    assert [(r.change.op, r.error) for r in results] == [(ChangeOp.UPDATE_VNF_CONFIG, None)]
    assert await vnf.pid("dnsmasq") != pid
    assert dig(host, gateway, ALLOWED[0]) == ("NXDOMAIN", "")
    assert dig(host, gateway, BLOCKED[0]) == ("NOERROR", BLOCKED[1])
