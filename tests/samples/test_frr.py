"""The FRR sample on the real path (read by tosca.software, run by the linux driver, confined
and limited): zebra and bgpd peer (eBGP, two hops) with a hand-configured BIRD beyond the WAN
side; each learns the other's routes: FRR installs BIRD's network in the VNF's namespace, and
the far side reaches a LAN host only by the route to the LAN it learnt from FRR. New timers are
applied by the package's reload mode (both daemons restarted); when BIRD stops, the routes go."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.reconcile import ChangeOp
from tests.samples.conftest import need
from tests.samples.site import Peers, SampleVnf, check_limited, eventually, run
from tests.site.drivers.netlab import INTERNET_GATEWAY, INTERNET_HOST, Lab

pytestmark = [pytest.mark.slow, pytest.mark.anyio]
FAR = "198.51.100.0/24"  # BIRD's network, on its loopback
BIRD_CONF = """
router id {peer};
protocol device {{}}
protocol direct {{ ipv4; interface "lo"; }}
# the provider routes the site's WAN addresses to the site: how BGP's next hop is resolved
protocol static {{ ipv4; route {transit} via {gateway}; }}
protocol kernel {{ ipv4 {{ import none; export where source = RTS_BGP; }}; }}
protocol bgp site {{
  local {peer} as 65002;
  neighbor {site} as 65001;
  multihop 2;
  hold time 9; keepalive time 3; connect retry time 2; error wait time 1, 4;
  ipv4 {{ import all; export where net = {far}; }};
}}
"""


async def test_frr_and_bird_exchange_routes_and_the_far_side_uses_the_lan_s(
    lab: Lab, driver: LinuxDriver, peers: Peers, workdir: Path
) -> None:
    need("frr", "/usr/lib/frr/zebra", "/usr/lib/frr/bgpd")
    need("bird2", "bird", "birdc")
    vnf = SampleVnf(lab, driver, "frr")
    transit = lab.site.transit_block(vnf.slot)
    # the far side knows the site's WAN addresses (the session's way), not its LAN
    run(lab.internet, "ip", "route", "del", "default")
    run(lab.internet, "ip", "route", "add", str(transit), "via", INTERNET_GATEWAY)
    run(lab.internet, "ip", "addr", "add", "198.51.100.1/24", "dev", "lo")
    conf = BIRD_CONF.format(peer=INTERNET_HOST, site=vnf.wan_address, transit=transit,
                            gateway=INTERNET_GATEWAY, far=FAR)  # fmt: skip
    (workdir / "bird.conf").write_text(conf)
    socket = workdir / "bird.ctl"
    argv = ["bird", "-f", "-c", str(workdir / "bird.conf"), "-s", str(socket), "-P",
            str(workdir / "bird.pid")]  # fmt: skip
    bird = peers.spawn(lab.internet, argv, "bird")

    lan_host = str(vnf.lan_subnet.network_address + 10)
    unrouted = run(lab.internet, "ip", "route", "get", lan_host)
    assert unrouted.returncode != 0, f"the far side knows the LAN without BGP: {unrouted.stdout}"

    params = {"neighbour_address": INTERNET_HOST, "neighbour_as": 65002, "local_as": 65001,
              "keepalive_s": 3, "hold_s": 9}  # fmt: skip
    status = await vnf.start(params)
    for program in ("zebra", "bgpd"):
        check_limited(status, program, vnf.namespace, await vnf.pid(program))
    attachment = await vnf.attachment()
    host = lab.add_host("h1", attachment)  # number 10: lan_host

    def learnt() -> bool:
        return "proto bgp" in run(vnf.namespace, "ip", "route", "show", FAR).stdout

    def birds_view() -> str:
        return run(lab.internet, "birdc", "-s", str(socket), "show", "route",
                   str(vnf.lan_subnet)).stdout  # fmt: skip

    def why() -> str:
        bird_said = run(lab.internet, "birdc", "-s", str(socket), "show", "protocols", "all",
                        "site").stdout  # fmt: skip
        vty = ["vtysh", "--vty_socket", str(vnf.base / "run/frr")]
        frr_said = [run(vnf.namespace, *vty, "-c", c).stdout for c in
                    ("show ip bgp", "show ip nht", "show ip route")]  # fmt: skip
        return f"BIRD: {bird_said[-300:]}; bgpd: {vnf.log('bgpd')[-300:]}; FRR: {frr_said}"

    try:
        await eventually("BIRD's route in the VNF", learnt, 30)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {why()}") from exc
    await eventually("FRR's LAN route in BIRD", lambda: "[AS65001i]" in birds_view(), 15)
    await eventually("the far side reaches the LAN host by BIRD's route",
                     lambda: lab.ping(lab.internet, host.address), 10)  # fmt: skip

    # Day 2: other timers, applied by the package's reload mode (zebra and bgpd restarted)
    before = {name: await vnf.pid(name) for name in ("zebra", "bgpd")}
    results = await vnf.modify(params | {"keepalive_s": 4, "hold_s": 12})
    assert [(r.change.op, r.error) for r in results] == [(ChangeOp.UPDATE_VNF_CONFIG, None)]
    assert all([await vnf.pid(name) != pid for name, pid in before.items()])
    bgpd_conf = (vnf.base / "root/etc/frr/bgpd.conf").read_text()
    assert f"neighbor {INTERNET_HOST} timers 4 12" in bgpd_conf
    try:
        await eventually("the route learnt again after the restart", learnt, 30)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {why()}") from exc
    await eventually("the far side reaches the LAN host again",
                     lambda: lab.ping(lab.internet, host.address), 15)  # fmt: skip

    peers.stop(bird)  # BIRD says goodbye: its routes are withdrawn on both sides
    await eventually("the route withdrawn in the VNF", lambda: not learnt(), 15)
    assert not lab.ping(lab.internet, host.address)
