"""Auto-scaling proven with real traffic over real processes: a real central (`edgewise server`)
and a site controller running the linux driver (root, namespaces) with a short counters cadence;
the elastic vCPE (router -> elastic firewall -> NAT) instantiated by SOL005, an auto-scaling rule
on the firewall's PacketCount rate, then TCP connections from a LAN host to an internet host
above the rate: the automatic SCALE_VNF runs to COMPLETED and the new instance takes new flows
(per-instance counters in the site's counters report); the traffic stopped, the cool-down over,
the automatic scale-in. `-s` prints the figures (docs/elastic-vnfs.md)."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edgewise.lab import samples
from edgewise.site.drivers.linux.layout import pick_slot
from tests.central.api.test_catalog import zip_dir
from tests.integration.harness import Central, stop, wait_for
from tests.integration.test_mixed_chain import (
    enroll_site,
    lan_host,
    operation_done,
    start_linux_controller,
)
from tests.integration.test_software_vnf import onboard
from tests.site.drivers.netlab import INTERNET_HOST, Lab, can_build_namespaces

pytestmark = pytest.mark.slow
PORT = 443  # the elastic NSD's firewall accepts TCP 443 from anywhere (rule-1)
RATE = 25  # new connections per second while the load runs
OUT_ABOVE, IN_BELOW, COOL_DOWN = 8.0, 2.0, 6
RUNTIME_ROOT = Path("/run/edgewise")
# opens `rate` connections a second for `seconds` to address:port, each reads the greeting and
# closes; prints how many answered (bounded in count and time)
LOAD = """
import socket, sys, time
address, port, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
start, done, ok = time.monotonic(), 0, 0
while time.monotonic() - start < seconds and done < rate * seconds:
    due = start + done / rate
    if due > time.monotonic():
        time.sleep(due - time.monotonic())
    done += 1
    try:
        with socket.create_connection((address, port), timeout=1) as s:
            s.settimeout(1)
            ok += bool(s.recv(100))
    except OSError:
        pass
print(done, ok, flush=True)
"""


@contextlib.contextmanager
def site_lab() -> Iterator[Lab]:
    why = can_build_namespaces()
    if why:
        pytest.skip(why)
    lab = Lab(prefix="as" + secrets.token_hex(2))
    try:
        lab.start()
        yield lab
    finally:
        lab.close()
        for server in lab.servers:
            if server.stdout is not None:
                server.stdout.close()
        shutil.rmtree(RUNTIME_ROOT / lab.prefix, ignore_errors=True)


@contextlib.contextmanager
def load(host: str, seconds: float, rate: float = RATE) -> Iterator[subprocess.Popen[str]]:
    """`rate` new TCP connections a second from `host` to the internet host, for `seconds`."""
    argv = [sys.executable, "-c", LOAD, INTERNET_HOST, str(PORT), str(rate), str(seconds)]
    process = subprocess.Popen(["ip", "netns", "exec", host, *argv], stdout=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        yield process
    finally:
        stop(process)
        assert process.stdout is not None
        process.stdout.close()


def firewall_counters(central: Central, site_id: str, ns: str) -> dict[str, Any]:
    report = central.api.get(f"api/v1/sites/{site_id}/counters").json()
    found: dict[str, Any] = report.get("services", {}).get(ns, {}).get("firewall", {})
    return found


def packets(counters: dict[str, Any]) -> int:
    return sum(int(rule.get("packets", 0)) for rule in counters.get("rules", {}).values())


def since(start: datetime, moment: str) -> float:
    """Seconds from `start` to an API time (the central runs on this machine's clock)."""
    return round((datetime.fromisoformat(moment) - start).total_seconds(), 2)


def decision(central: Central, rule: str) -> dict[str, Any]:
    found: dict[str, Any] = central.api.get(f"api/v1/autoscale-rules/{rule}").json()
    return found.get("lastDecision") or {}


def test_real_traffic_scales_the_firewall_out_and_its_end_scales_it_in(
    central: Central, tmp_path: Path
) -> None:
    with site_lab() as lab:
        for package in ("edgewise-router-vnf", "edgewise-firewall-vnf"):
            onboard(central, "vnfpkgm/v1/vnf_packages", "package_content",
                    zip_dir(samples.path(package)), "application/zip")  # fmt: skip
        nsd = onboard(central, "nsd/v1/ns_descriptors", "nsd_content",
                      samples.path("elastic-nsd.yaml").read_bytes(), "text/plain")  # fmt: skip
        site_dir = tmp_path / "site"
        site_id = enroll_site(
            central, f"cloud-{uuid.uuid4().hex[:8]}", site_dir, kind="cloud", slots=5
        )  # the chain and a second firewall
        controller = start_linux_controller(site_dir, lab, "--counters-interval", "1")
        try:
            figures = scale_by_traffic(central, lab, nsd, site_id)
        finally:
            stop(controller)
        log = (site_dir / "controller.log").read_text(errors="replace")
        assert "Traceback" not in log, log[-3000:]
    print("\nauto-scaling with real traffic:", figures)


def scale_by_traffic(central: Central, lab: Lab, nsd: str, site_id: str) -> dict[str, Any]:
    made = central.api.post("nslcm/v1/ns_instances", json={
        "nsdId": nsd, "nsName": "elastic", "tenantId": central.tenant_id})  # fmt: skip
    assert made.status_code == 201, made.text
    ns = made.json()["id"]
    started = central.api.post(f"nslcm/v1/ns_instances/{ns}/instantiate", json={
        "nsFlavourId": "default", "additionalParamsForNs": {"sites": [site_id]}})  # fmt: skip
    assert started.status_code == 202, started.text
    wait_for(lambda: operation_done(central, started.headers["Location"]), 60,
             "the instantiation to complete")  # fmt: skip
    rules = central.api.get(f"api/v1/ns-instances/{ns}/autoscale-rules").json()
    assert [r["origin"] for r in rules] == ["descriptor"]  # the VNFD's (20,000 packets/s)
    added = central.api.post(f"api/v1/ns-instances/{ns}/autoscale-rules", json={
        "vnf": "firewall", "aspectId": "instances", "metric": "PacketCount",
        "scaleOutAbove": OUT_ABOVE, "scaleInBelow": IN_BELOW, "cooldownSeconds": COOL_DOWN,
        "maxLevel": 1})  # fmt: skip
    assert added.status_code == 201, added.text
    rule = added.json()["id"]
    slot = pick_slot(ns, set(), lab.site.slots)
    host = f"{lab.prefix}-h1"
    lan_host(lab, slot)
    lab.serve(lab.internet, PORT)
    assert lab.connect(host, INTERNET_HOST, PORT, timeout=2) != "failed", "no path to serve"
    figures: dict[str, Any] = {}

    # load above the band: the rule sees the rate, starts SCALE_VNF by itself, it completes
    with load(host, 40) as traffic:
        began = datetime.now(UTC)
        wait_for(lambda: decision(central, rule).get("decision") == "scale-out", 30,
                 "the automatic scale-out")  # fmt: skip
        out = decision(central, rule)
        assert float(out["ratePerSecond"]) > OUT_ABOVE, out
        location = f"nslcm/v1/ns_lcm_op_occs/{out['nsLcmOpOccId']}"
        op = central.api.get(location).json()
        assert (op["lcmOperationType"], op["isAutomaticInvocation"]) == ("SCALE", True), op
        wait_for(lambda: operation_done(central, location), 60, "the scale-out to complete")
        op = central.api.get(location).json()
        figures |= {"rateSeen": round(float(out["ratePerSecond"]), 1),
                    "loadToStarted_s": since(began, op["startTime"]),
                    "loadToCompleted_s": since(began, op["statusEnteredTime"])}  # fmt: skip

        # the new instance takes new flows: its own counters rise in the site's report
        def second_counts() -> bool:
            instances = firewall_counters(central, site_id, ns).get("instances", {})
            return "1" in instances and packets(instances["1"]) > 0

        wait_for(second_counts, 20, "the second firewall instance to count new flows")
        instances = firewall_counters(central, site_id, ns)["instances"]
        figures["perInstancePackets"] = {k: packets(v) for k, v in sorted(instances.items())}
        stop(traffic)

    # a trickle below the band (a site reports counters only when they change: with none at
    # all, the last rate the rule saw would stand); once the cool-down is over, the scale-in
    quiet = datetime.now(UTC)
    with load(host, 70, rate=0.5):
        wait_for(lambda: decision(central, rule).get("decision") == "scale-in", 60,
                 "the automatic scale-in after the cool-down")  # fmt: skip
    back = decision(central, rule)
    location = f"nslcm/v1/ns_lcm_op_occs/{back['nsLcmOpOccId']}"
    wait_for(lambda: operation_done(central, location), 60, "the scale-in to complete")
    op = central.api.get(location).json()
    figures |= {"quietToStarted_s": since(quiet, op["startTime"]),
                "quietToCompleted_s": since(quiet, op["statusEnteredTime"])}  # fmt: skip
    op = central.api.get(location).json()
    assert op["isAutomaticInvocation"] is True
    assert lab.connect(host, INTERNET_HOST, PORT, timeout=2) != "failed"
    listed = central.api.get("nslcm/v1/ns_lcm_op_occs").json()
    automatic = [o for o in listed if o["nsInstanceId"] == ns and o["isAutomaticInvocation"]]
    assert len(automatic) == 2, automatic
    return figures
