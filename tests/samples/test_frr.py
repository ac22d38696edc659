"""The FRR sample: zebra and bgpd peer over the WAN leg with a hand-configured BIRD, exchange
routes, and a LAN host reaches a network only the learnt route leads to."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.samples.conftest import need
from tests.samples.harness import start_vnf
from tests.samples.lab import LAN_SUBNET, WAN_PEER, WAN_VNF, Lab, wait_for

pytestmark = pytest.mark.slow
REMOTE = "198.51.100.1"  # on the BIRD side only: reached by the route BGP brings
BIRD_CONF = f"""
router id {WAN_PEER};
protocol device {{}}
protocol direct {{ ipv4; interface "lo"; }}
protocol kernel {{ ipv4 {{ import none; export where source = RTS_BGP; }}; }}
protocol bgp site {{
  local {WAN_PEER} as 65002;
  neighbor {WAN_VNF} as 65001;
  hold time 9; keepalive time 3; connect retry time 2;
  ipv4 {{ import all; export where source = RTS_DEVICE; }};
}}
"""


def ping(lab: Lab, address: str) -> bool:
    return lab.run(lab.lan, "busybox", "ping", "-c", "1", "-W", "1", address).returncode == 0


def test_frr_learns_a_route_from_bird_and_the_lan_uses_it(
    lab: Lab, samples: Path, workdir: Path
) -> None:
    need("frr", "/usr/lib/frr/zebra", "/usr/lib/frr/bgpd")
    need("bird2", "bird", "birdc")
    need("busybox", "busybox")
    lab.run(lab.wan, "ip", "addr", "add", f"{REMOTE}/24", "dev", "lo")
    (workdir / "bird.conf").write_text(BIRD_CONF)
    socket = workdir / "bird.ctl"
    bird = lab.spawn(
        lab.wan,
        [
            "bird",
            "-f",
            "-c",
            str(workdir / "bird.conf"),
            "-s",
            str(socket),
            "-P",
            str(workdir / "bird.pid"),
        ],
        workdir / "bird.log",
    )
    assert not ping(lab, REMOTE), "reachable before any route was learnt: the proof proves nothing"

    vnf = start_vnf(
        lab,
        samples / "frr",
        {
            "neighbour_address": WAN_PEER,
            "neighbour_as": "65002",
            "local_as": "65001",
            "keepalive_s": "3",
            "hold_s": "9",
        },
        workdir / "vnf",
    )

    def learnt() -> bool:
        return "proto bgp" in lab.run(lab.vnf, "ip", "route", "show", "198.51.100.0/24").stdout

    wait_for(f"the route from BIRD in the VNF (bgpd: {vnf.log('bgpd')})", learnt, 30)
    birds_view = lab.run(lab.wan, "birdc", "-s", str(socket), "show", "route", LAN_SUBNET).stdout
    assert "[AS65001i]" in birds_view, birds_view
    wait_for("the LAN host reaches the network behind BIRD", lambda: ping(lab, REMOTE), 10)

    # Day 2: other timers, applied by the package's reload mode (zebra and bgpd restarted)
    before = {name: process.pid for name, process in vnf.processes.items()}
    params = {
        "neighbour_address": WAN_PEER,
        "neighbour_as": "65002",
        "keepalive_s": "4",
        "hold_s": "12",
    }
    vnf.modify(params)
    assert all(vnf.processes[name].pid != pid for name, pid in before.items())
    bgpd_conf = (Path(vnf.variables["root"]) / "etc/frr/bgpd.conf").read_text()
    assert f"neighbor {WAN_PEER} timers 4 12" in bgpd_conf
    wait_for("the route learnt again after the restart", learnt, 30)
    wait_for("the LAN host reaches it again", lambda: ping(lab, REMOTE), 10)

    lab.stop(bird)  # BIRD says goodbye: the route is withdrawn, the traffic has no way left
    wait_for("the route withdrawn", lambda: not learnt(), 15)
    assert not ping(lab, REMOTE)
