"""End to end over real processes and a real data plane: the mixed-chain sample NSD
(samples/nsd/edge-chain-nsd.yaml: Edgewise's native firewall -> the FRR package -> the Squid
package) and the two SOL004 packages onboarded on a real central, instantiated by the ordinary
SOL005 lifecycle on a site controller running the linux driver (root, namespaces, bubblewrap),
and traffic proven through all three: the LAN's HTTP goes through the firewall (which drops
what it does not allow) and FRR to Squid, whose second answer is a cache HIT; FRR exchanges
routes with a hand-configured BIRD beyond the WAN side, and the far side reaches a LAN host by
the route it learnt. Terminating the NS leaves nothing at the site."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edgewise.site.drivers.linux.layout import left_end, pick_slot, right_end
from tests.integration.harness import Central, edgewise, stop, wait_for
from tests.integration.test_software_vnf import onboard
from tests.samples.conftest import need
from tests.samples.csar import SAMPLES
from tests.samples.site import run
from tests.samples.test_onboarding import zipped
from tests.site.drivers.linux.software.conftest import stop_software
from tests.site.drivers.netlab import INTERNET_GATEWAY, INTERNET_HOST, Lab, can_build_namespaces

pytestmark = pytest.mark.slow
NSD = SAMPLES / "nsd" / "edge-chain-nsd.yaml"
FAR = "198.51.100.0/24"  # BIRD's network
BODY = "an object worth caching\n"
SOFTWARE_ROOT = Path("/var/lib/edgewise")  # where a linux site keeps its third-party VNFs
RUNTIME_ROOT = Path("/run/edgewise")
BIRD_CONF = """
router id {peer};
protocol device {{}}
protocol direct {{ ipv4; interface "lo"; }}
protocol static {{ ipv4; route {transit} via {gateway}; }}
protocol kernel {{ ipv4 {{ import none; export where source = RTS_BGP; }}; }}
protocol bgp site {{
  local {peer} as 65002;
  neighbor {site} as 65001;
  multihop 3;
  hold time 9; keepalive time 3; connect retry time 2; error wait time 1, 4;
  ipv4 {{ import all; export where net = {far}; }};
}}
"""


@contextlib.contextmanager
def site_lab() -> Iterator[Lab]:
    why = can_build_namespaces()
    if why:
        pytest.skip(why)
    for package, program in (("bubblewrap", "bwrap"), ("frr", "/usr/lib/frr/bgpd"),
                             ("squid", "squid"), ("bird2", "bird"), ("curl", "curl")):  # fmt: skip
        need(package, program)
    lab = Lab(prefix="mx" + secrets.token_hex(2))
    try:
        lab.start()
        yield lab
    finally:
        lab.close()
        stop_software(SOFTWARE_ROOT / lab.prefix / "software")  # what a failed run left
        shutil.rmtree(SOFTWARE_ROOT / lab.prefix, ignore_errors=True)
        shutil.rmtree(RUNTIME_ROOT / lab.prefix, ignore_errors=True)


@contextlib.contextmanager
def spawned(namespace: str, argv: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A hand-configured peer in `namespace`, in a session of its own, ended by pid."""
    with log.open("ab") as out:
        process = subprocess.Popen(["ip", "netns", "exec", namespace, *argv], stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def enroll_site(
    central: Central, name: str, data_dir: Path, *, kind: str = "on-premise", slots: int = 4
) -> str:
    """A site with room for the chain's three VNFs (four VNF slots on its one box by default),
    enrolled as `data_dir` with the real CLI."""
    made = central.api.post("api/v1/sites", json={"name": name, "kind": kind,
                            "tenantId": central.tenant_id, "slotsPerNode": slots})  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    done = edgewise("site-controller", "enroll", "--central", central.southbound, "--token",
                    body["enrollmentToken"]["token"], "--data-dir", str(data_dir),
                    "--ca-file", str(central.ca_file))  # fmt: skip
    assert done.returncode == 0, done.stderr
    return str(body["id"])


def start_linux_controller(data_dir: Path, lab: Lab, *more: str) -> subprocess.Popen[bytes]:
    """`edgewise site-controller run --driver linux` on the lab's LAN and WAN namespaces, with
    `more` options."""
    with (data_dir / "controller.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "edgewise", "site-controller", "run", "--data-dir",
             str(data_dir), "--driver", "linux", "--site-prefix", lab.prefix, "--lan-netns",
             lab.lan, "--wan-netns", lab.wan, "--reconcile-interval", "0.5",
             "--first-poll-max-delay", "0.2", *more],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def operation_done(central: Central, location: str) -> bool:
    op: dict[str, Any] = central.api.get(location).json()
    assert op["operationState"] not in ("FAILED_TEMP", "FAILED"), op
    return bool(op["operationState"] == "COMPLETED")


def lan_host(lab: Lab, slot: int) -> str:
    """A LAN host (number 10) on the service's bridge; its address."""
    subnet, gateway = lab.site.lan_subnet(slot), lab.site.lan_gateway(slot)
    host, end = f"{lab.prefix}-h1", f"{lab.prefix}h1"
    address = str(subnet.network_address + 10)
    for argv in (["netns", "add", host],
                 ["-n", host, "link", "add", "eth0", "type", "veth", "peer", "name", end,
                  "netns", lab.lan],
                 ["-n", lab.lan, "link", "set", end, "master", lab.site.bridge(slot), "up"],
                 ["-n", host, "addr", "add", f"{address}/{subnet.prefixlen}", "dev", "eth0"],
                 ["-n", host, "link", "set", "eth0", "up"],
                 ["-n", host, "route", "add", "default", "via", str(gateway.ip)]):  # fmt: skip
        subprocess.run(["ip", *argv], check=True, capture_output=True, timeout=10)
    return address


def fetch(host: str, proxy: str, url: str) -> tuple[str, str]:
    """(X-Cache header, body) of `url` fetched by `host` through `proxy`, or ('', '')."""
    done = run(host, "curl", "-s", "-m", "5", "-D", "-", "-x", f"http://{proxy}:3128", url)
    head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
    cache = [ln.split(":", 1)[1].strip() for ln in head.splitlines()
             if ln.lower().startswith("x-cache:")]  # fmt: skip
    return (cache[0] if cache else ""), body


def test_the_mixed_chain_runs_on_a_linux_site_with_traffic_through_all_three(
    central: Central, tmp_path: Path
) -> None:
    with site_lab() as lab:
        work = tmp_path / "work"
        work.mkdir()
        tag = uuid.uuid4().hex[:8]
        for name in ("frr", "squid"):
            onboard(central, "vnfpkgm/v1/vnf_packages", "package_content",
                    zipped(SAMPLES / name), "application/zip")  # fmt: skip
        nsd = onboard(central, "nsd/v1/ns_descriptors", "nsd_content", NSD.read_bytes(),
                      "text/plain")  # fmt: skip
        site_dir = tmp_path / "site"
        site_id = enroll_site(central, f"edge-{tag}", site_dir)
        controller = start_linux_controller(site_dir, lab)
        try:
            run_chain(central, lab, nsd, site_id, work)
        finally:
            stop(controller)
        log = (site_dir / "controller.log").read_text(errors="replace")
        assert "Traceback" not in log, log[-3000:]


def run_chain(central: Central, lab: Lab, nsd: str, site_id: str, work: Path) -> None:
    made = central.api.post("nslcm/v1/ns_instances", json={
        "nsdId": nsd, "nsName": "edge", "tenantId": central.tenant_id})  # fmt: skip
    assert made.status_code == 201, made.text
    ns = made.json()["id"]
    document = central.api.get(f"api/v1/sites/{site_id}/desired-state").json()
    assert document["document"]["services"] == []
    # the slot the site gives the service follows from its id (the NS instance's entry)
    frr_params = {"neighbour_address": INTERNET_HOST, "neighbour_as": 65002,
                  "neighbour_hops": 3, "keepalive_s": 3, "hold_s": 9}  # fmt: skip
    started = central.api.post(f"nslcm/v1/ns_instances/{ns}/instantiate", json={
        "nsFlavourId": "default", "additionalParamsForNs": {"sites": [site_id]},
        "additionalParamsForVnf": [{"vnfProfileId": "frr", "additionalParams": frr_params},
                                   {"vnfProfileId": "squid", "additionalParams": {}}],
    })  # fmt: skip
    assert started.status_code == 202, started.text
    document = central.api.get(f"api/v1/sites/{site_id}/desired-state").json()
    (service,) = document["document"]["services"]
    assert service["chain"] == ["firewall", "frr", "squid"]
    slot = pick_slot(service["id"], set(), lab.site.slots)
    frr_wan = str(left_end(lab.site.transit_link(slot, 2)).ip)
    proxy = str(right_end(lab.site.transit_link(slot, 2)).ip)  # Squid's LAN leg

    # beyond the WAN side: an origin server and BIRD; the far side knows the site's WAN
    # addresses (its transit block), not its LAN
    transit = lab.site.transit_block(slot)
    run(lab.internet, "ip", "route", "del", "default")
    run(lab.internet, "ip", "route", "add", str(transit), "via", INTERNET_GATEWAY)
    run(lab.internet, "ip", "addr", "add", "198.51.100.1/24", "dev", "lo")
    www = work / "www"
    www.mkdir()
    (www / "object.txt").write_text(BODY)
    day_ago = time.time() - 86400  # Last-Modified a day back: fresh by Squid's heuristics
    os.utime(www / "object.txt", (day_ago, day_ago))
    bird_conf = BIRD_CONF.format(peer=INTERNET_HOST, site=frr_wan, transit=transit,
                                 gateway=INTERNET_GATEWAY, far=FAR)  # fmt: skip
    (work / "bird.conf").write_text(bird_conf)
    origin = ["python3", "-m", "http.server", "8080", "--bind", INTERNET_HOST,
              "--directory", str(www)]  # fmt: skip
    bird = ["bird", "-f", "-c", str(work / "bird.conf"), "-s", str(work / "bird.ctl"),
            "-P", str(work / "bird.pid")]  # fmt: skip
    with (spawned(lab.internet, origin, work / "origin.log"),
          spawned(lab.internet, bird, work / "bird.log")):  # fmt: skip
        wait_for(lambda: operation_done(central, started.headers["Location"]), 60,
                 "the instantiation to complete")  # fmt: skip
        assert central.status(site_id)["inSync"]
        prove_traffic(lab, slot, proxy, work)

        ended = central.api.post(f"nslcm/v1/ns_instances/{ns}/terminate", json={})
        assert ended.status_code == 202, ended.text
        wait_for(lambda: operation_done(central, ended.headers["Location"]), 60,
                 "the termination to complete")  # fmt: skip
    namespaces = [n for n in lab.namespaces() if n.startswith(f"{lab.prefix}-{slot:04x}-")]
    assert namespaces == []
    assert list((SOFTWARE_ROOT / lab.prefix / "software").glob("*/state.json")) == []


def prove_traffic(lab: Lab, slot: int, proxy: str, work: Path) -> None:
    host = f"{lab.prefix}-h1"
    address = lan_host(lab, slot)
    url = f"http://{INTERNET_HOST}:8080/object.txt"
    # through the firewall (3128 allowed) and FRR to Squid: a MISS, then a HIT
    first = fetch(host, proxy, url)
    assert first[0].startswith("MISS"), first
    assert first[1] == BODY
    second = fetch(host, proxy, url)
    assert second[0].startswith("HIT"), second
    assert second[1] == BODY
    assert (work / "origin.log").read_text().count("GET /object.txt") == 1

    # FRR and BIRD exchange routes; the far side, which knows only the site's WAN addresses,
    # reaches the LAN host by the route BIRD learnt from FRR (across Squid's and FRR's
    # namespaces and the firewall, which lets pings in)
    frr = lab.site.vnf_namespace(slot, "frr")
    wait_for(lambda: "proto bgp" in run(frr, "ip", "route", "show", FAR).stdout, 30,
             "BIRD's network in FRR's namespace")  # fmt: skip
    lan = str(lab.site.lan_subnet(slot))
    wait_for(lambda: "[AS65001i]" in run(lab.internet, "birdc", "-s", str(work / "bird.ctl"),
                                         "show", "route", lan).stdout, 30,
             "the LAN in BIRD's routes, from FRR")  # fmt: skip
    try:
        wait_for(lambda: lab.ping(lab.internet, address), 30,
                 "the far side reaching the LAN host by BIRD's route from FRR")  # fmt: skip
    except AssertionError as exc:
        seen = {ns: run(ns, "ip", "route").stdout for ns in
                (lab.internet, lab.wan, frr, lab.site.vnf_namespace(slot, "squid"),
                 lab.site.vnf_namespace(slot, "firewall"))}  # fmt: skip
        raise AssertionError(f"{exc}: {seen}") from exc

    # the firewall drops what it does not allow: with routes both ways (the LAN host's pings
    # reach the origin's host), a fetch straight from the origin, not through the proxy, fails
    assert lab.ping(host, INTERNET_HOST)
    direct = run(host, "curl", "-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", url)
    assert direct.stdout in ("", "000"), direct.stdout
    assert (work / "origin.log").read_text().count("GET /object.txt") == 1
