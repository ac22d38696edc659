"""The main job: `edgewise demo` runs end to end — five site-controller processes, the vCPE NSD
instantiated through SOL005, real traffic verified at every site, then a mixed chain with
third-party VNFs (firewall → FRR → dnsmasq from their SOL004 packages) at the first site, a site
gone silent raising SITE_OFFLINE as a root that its return clears — and leaves nothing behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edgewise.lab.demo import sitelab

DEMO_NAMESPACE = re.compile(r"^e[0-9a-f]{5}-")


def demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgewise", "demo", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=dict(os.environ, COLUMNS="200"),
        check=False,
    )


def demo_namespaces() -> list[str]:
    netns = Path("/run/netns")
    names = [p.name for p in netns.iterdir()] if netns.is_dir() else []
    return [name for name in names if DEMO_NAMESPACE.match(name)]


@pytest.mark.skipif(sitelab.unavailable() is not None, reason=str(sitelab.unavailable()))
def test_demo_sends_real_traffic_through_five_sites_and_cleans_up() -> None:
    result = demo()
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for needle in (
        "ONBOARDED",
        "branch-5",
        "instantiating NSD 'Virtual CPE (firewall + NAT)' on 5 sites",
        "5/5 sites: service up, traffic verified",
        "demo complete",
    ):
        assert needle in out, needle
    rows = [line for line in out.splitlines() if "branch-" in line and "firewall+nat" in line]
    assert len(rows) == 5, out
    for row in rows:
        assert row.count("passed") == 2, row  # the allowed flow and the port forward
        assert "dropped" in row, row
        assert "10.255." in row, row  # the WAN saw the NAT's address, not the LAN host's
    assert demo_namespaces() == []
    assert_the_mixed_chain_ran(out)
    assert_the_alarms_step_ran(out)


def assert_the_alarms_step_ran(out: str) -> None:
    """The last site silent: its SITE_OFFLINE a root, cleared on its return; the MPLS blackout's
    LINK_DOWN (raised, cleared) and the link's minutes."""
    assert re.search(r"branch-5's site controller \(pid \d+\) stopped", out), out
    assert re.search(r"SITE_OFFLINE of branch-5 raised [\d.]+ s after its controller stopped", out)
    assert re.search(r"CRITICAL +SITE_OFFLINE +site:[0-9a-f-]+ .* UNACKNOWLEDGED +root", out)
    assert re.search(r"branch-5's site controller started again .*\n.*its alarm cleared", out)
    stamp = r"\d{4}-\d\d-\d\dT[\d:.]+Z"
    assert re.search(rf"MAJOR +LINK_DOWN +site:[0-9a-f-]+/link:mpls +{stamp} +{stamp} ", out)
    assert re.search(rf"Link mpls of branch-1, every 60 s since .*\n.*\n{stamp[:-1]}", out)


def assert_the_mixed_chain_ran(out: str) -> None:
    """The third-party step: both packages onboarded, every program ready, DNS answered and
    filtered by the dnsmasq VNF, TCP through the chain; nothing of the VNFs left."""
    assert "third-party VNFs at branch-1: firewall → FRR → dnsmasq" in out, out
    for package in ("edgewise-sample-frr", "edgewise-sample-dnsmasq"):
        assert package in out, package
    for vnf, program in (("dns", "dnsmasq"), ("router", "zebra"), ("router", "bgpd")):
        assert re.search(rf"│ {vnf} +│ ready +│ {program} +│ \d+ +│ 0 ", out), (vnf, program)
    assert re.search(r"www\.allowed\.example .*│ 198\.51\.100\.80 +│ 198\.51\.100\.80", out)
    assert re.search(r"www\.ads\.example .*│ NXDOMAIN +│ NXDOMAIN", out)
    assert re.search(r"TCP 203\.0\.113\.2:443 .*│ passed, 262,144 bytes", out)
    assert re.search(r"│ firewall → router → dns → WAN → internet +│", out)  # hop by hop
    base = Path("/var/lib/edgewise")
    left = (
        [p.name for p in base.iterdir() if DEMO_NAMESPACE.match(f"{p.name}-")]
        if base.is_dir()
        else []
    )
    assert left == []  # the sites' third-party VNF files


def test_demo_with_the_sim_driver_says_what_it_cannot_verify() -> None:
    result = demo("--driver", "sim", "--sites", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2/2 sites: service up, sim driver, no traffic to verify" in result.stdout


def test_demo_refuses_a_driver_it_does_not_know() -> None:
    result = demo("--driver", "dpdk")
    assert result.returncode == 2
    assert "--driver 'dpdk': choose auto, linux or sim" in result.stderr
