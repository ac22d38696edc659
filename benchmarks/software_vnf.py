"""Third-party VNFs at a real site: time from instantiate to ready, memory per VNF instance, and
TCP throughput through a native firewall → FRR chain against bare veth, in one run.

Usage (root): ./run bench software_vnf [--runs 20] [--rounds 5] [--seconds 2]
              [--reconcile-interval 1] [--timeout 900]

One central (`edgewise server`, SQLite) and one site controller (`python -m edgewise.site run
--driver linux`) in the demo's site lab (namespaces named `e` + 5 hex digits, told on stderr,
all removed at the end with the programs, cgroups and files of the site's VNFs). The SOL004
packages samples/frr and samples/dnsmasq and the lab's NSDs (src/edgewise/lab/samples/) are
onboarded through vnfpkgm/v1 and nsd/v1. Measured:
- ready: the mixed chain (firewall → FRR → dnsmasq) instantiated by the SOL005 call, until the
  site's report says every program of FRR (zebra, bgpd) and dnsmasq is ready (their readiness
  probes: zebra's socket, bgpd's TCP 179, dnsmasq's UDP 53); terminated between runs. The site
  reports readiness on its reconcile passes, so the figure holds up to one
  --reconcile-interval of waiting for the next pass. Beside it, the time to the operation
  COMPLETED (the site applied the chain: programs started, not yet ready);
- memory per VNF instance, with the last instance running: RSS and PSS of every process in
  the VNF's cgroups (bubblewrap and the programs) from /proc/<pid>/smaps_rollup, and the
  cgroups' memory.usage_in_bytes (which also counts page cache charged to them);
- throughput: iperf3 (one stream) from a LAN host through the firewall → FRR chain to the
  internet host, against a bare veth pair, interleaved, median of --rounds runs each.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from dataplane_common import Deadline, guarded, iperf_run, percentile
from rich.console import Console

from edgewise.cli.client import CentralClient
from edgewise.lab import samples
from edgewise.lab.central import free_port, local_central
from edgewise.lab.demo import mixed, sitelab, software
from edgewise.lab.demo.sites import DemoFleet, DemoSite
from edgewise.lab.errors import LabError

PORT = 5201
BARE_LEFT, BARE_RIGHT = "198.51.100.1", "198.51.100.2"  # inside the bare pair only
MEMORY = Path("/sys/fs/cgroup/memory/edgewise")
THIRD_PARTY = {"router": "FRR", "dns": "dnsmasq"}
console = Console(stderr=True)


def zipped(package: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in package.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(package).as_posix())
    return buffer.getvalue()


def onboard(client: CentralClient) -> dict[str, str]:
    """The packages and the NSDs; NSD file name → its id."""
    nsds: dict[str, str] = {}
    uploads = [
        (
            "vnfpkgm/v1/vnf_packages",
            "package_content",
            zipped(samples.third_party(name)),
            "application/zip",
            "",
        )
        for name in ("frr", "dnsmasq")
    ]
    uploads += [
        (
            "nsd/v1/ns_descriptors",
            "nsd_content",
            samples.path(name).read_bytes(),
            "text/plain",
            name,
        )
        for name in (samples.MIXED_NSD, samples.FIREWALL_FRR_NSD)
    ]
    for collection, content, data, media, name in uploads:
        made = client.post_json(collection, {})
        client.request(
            "PUT",
            f"{collection}/{made['id']}/{content}",
            content=data,
            headers={"Content-Type": media},
        )
        if name:
            nsds[name] = made["id"]
    return nsds


def operate(client: CentralClient, ns_id: str, task: str, body: dict[str, Any]) -> None:
    """Starts `task` on the NS and waits for it to be COMPLETED (bounded)."""
    completed(client, start(client, ns_id, task, body), task)


def start(client: CentralClient, ns_id: str, task: str, body: dict[str, Any]) -> str:
    """Starts `task` on the NS: its operation's location."""
    response = client.request("POST", f"nslcm/v1/ns_instances/{ns_id}/{task}", json=body)
    return str(response.headers["Location"])


def completed(client: CentralClient, location: str, task: str) -> None:
    deadline = time.monotonic() + 120
    while (op := client.get_json(location))["operationState"] != "COMPLETED":
        if op["operationState"] in ("FAILED_TEMP", "FAILED") or time.monotonic() > deadline:
            raise LabError(f"{task}: {op['operationState']}: {op.get('error')}")
        time.sleep(0.05)


def instantiate_body(site: DemoSite, *, dns: bool) -> dict[str, Any]:
    return {
        "nsFlavourId": "default",
        "additionalParamsForNs": {"sites": [site.site_id]},
        "additionalParamsForVnf": software.vnf_params(dns=dns),
    }


def time_to_ready(
    client: CentralClient, site: DemoSite, ns_id: str, runs: int, deadline: Deadline
) -> tuple[list[float], list[float]]:
    """`runs` instantiations of the mixed chain, each until every program is ready: (seconds to
    ready, seconds to the operation COMPLETED) per run. The last one is left running."""
    ready: list[float] = []
    done: list[float] = []
    for number in range(runs):
        if number and deadline.left() < 60:
            print(f"time bound reached: stopped after {number} runs", file=sys.stderr)
            break
        if number:
            operate(client, ns_id, "terminate", {})
            software.wait_gone(client, site.site_id, ns_id, within=30)
        began = time.monotonic()
        location = start(client, ns_id, "instantiate", instantiate_body(site, dns=True))
        took = until_ready(client, site, ns_id, location, began)
        ready.append(took[0])
        done.append(took[1])
        print(f"run {number + 1}/{runs}: ready {took[0]:.2f} s, COMPLETED {took[1]:.2f} s",
              file=sys.stderr, flush=True)  # fmt: skip
    return ready, done


def until_ready(
    client: CentralClient, site: DemoSite, ns_id: str, location: str, began: float
) -> tuple[float, float]:
    """Polls the operation and the site's report until both the operation is COMPLETED and
    every program is ready: seconds from `began` to each."""
    ready = completed_at = 0.0
    limit = began + 60
    while not (ready and completed_at):
        now = time.monotonic()
        if not completed_at:
            state = client.get_json(location)["operationState"]
            if state in ("FAILED_TEMP", "FAILED"):
                raise LabError(f"instantiate: {state}")
            completed_at = now - began if state == "COMPLETED" else 0.0
        states = software.software_states(client, site.site_id, ns_id)
        if now > limit:
            raise LabError(f"not ready within 60 s: {states}")
        if not ready and set(states) >= set(THIRD_PARTY):
            ready = now - began if all(s.get("state") == "ready" for s in states.values()) else 0.0
        time.sleep(0.05)
    return ready, completed_at


def smaps(pid: str) -> tuple[int, int]:
    """(Rss, Pss) of a process in KiB; (0, 0) when it is gone."""
    rss = pss = 0
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0, 0
    for line in lines:
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss"):
            value = int(rest.split()[0])
            rss, pss = (value, pss) if key == "Rss" else (rss, value)
    return rss, pss


def memory(prefix: str, vnf: str) -> tuple[int, int, int, int]:
    """A VNF's (RSS KiB, PSS KiB, cgroup bytes, programs) over its programs' memory cgroups."""
    rss = pss = usage = programs = 0
    for program in sorted(p for p in (MEMORY / f"{prefix}-0000-{vnf}").glob("*") if p.is_dir()):
        programs += 1
        usage += int((program / "memory.usage_in_bytes").read_text())
        for pid in (program / "cgroup.procs").read_text().split():
            one_rss, one_pss = smaps(pid)
            rss, pss = rss + one_rss, pss + one_pss
    return rss, pss, usage, programs


def bare_pair(lab: sitelab.SiteLab) -> str:
    """Two namespaces joined by a veth pair, an iperf3 server in the second; the first's name."""
    left, right = f"{lab.prefix}-va", f"{lab.prefix}-vb"
    for namespace in (left, right):
        sitelab.ip("netns", "add", namespace)
        sitelab.ip("-n", namespace, "link", "set", "lo", "up")
    sitelab.ip(
        "-n", left, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", right
    )
    for namespace, address in ((left, BARE_LEFT), (right, BARE_RIGHT)):
        sitelab.ip("-n", namespace, "addr", "add", f"{address}/30", "dev", "eth0")
        sitelab.ip("-n", namespace, "link", "set", "eth0", "up")
    iperf_server(lab, right, BARE_RIGHT)
    return left


def iperf_server(lab: sitelab.SiteLab, namespace: str, address: str) -> None:
    argv = ["ip", "netns", "exec", namespace, "iperf3", "-s", "-p", str(PORT), "-B", address]
    lab.servers.append(
        subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    )


def throughput(
    lab: sitelab.SiteLab, host: str, rounds: int, seconds: float, deadline: Deadline
) -> tuple[list[float], list[float]]:
    """Gbit/s through the chain and through bare veth, one run of each per round."""
    bare = bare_pair(lab)
    iperf_server(lab, lab.internet, sitelab.INTERNET_HOST)
    chain: list[float] = []
    veth: list[float] = []
    for number in range(rounds):
        if deadline.left() < 2 * (seconds + 10):
            print(f"time bound reached: stopped after {number} rounds", file=sys.stderr)
            break
        runs = [(host, sitelab.INTERNET_HOST, chain), (bare, BARE_RIGHT, veth)]
        for client, address, into in runs if number % 2 == 0 else runs[::-1]:
            into.append(iperf_run(client, address, PORT, seconds=seconds, streams=1).gbps)
    return chain, veth


def measure(args: argparse.Namespace, data_dir: Path, fleet: DemoFleet) -> int:
    deadline = Deadline(args.timeout)
    with local_central(data_dir, free_port()) as url:
        client = CentralClient(url, (data_dir / "admin.token").read_text().strip(), timeout=60)
        tenant = client.post_json("api/v1/tenants", {"name": "bench"})["id"]
        nsds = onboard(client)
        fleet.add_sites(client, tenant)
        (site,) = fleet.sites
        print(f"lab prefix: {site.prefix}", file=sys.stderr, flush=True)
        client.request("PATCH", f"api/v1/sites/{site.site_id}", json={"slotsPerNode": 4})
        fleet.start_controllers(client.get_json("api/v1/central"), console)
        assert site.lab is not None
        ns_id = client.post_json(
            "nslcm/v1/ns_instances",
            {"nsdId": nsds[samples.MIXED_NSD], "nsName": "mixed", "tenantId": tenant},
        )["id"]
        took, done = time_to_ready(client, site, ns_id, args.runs, deadline)
        sizes = {vnf: memory(site.prefix, vnf) for vnf in THIRD_PARTY}
        operate(client, ns_id, "terminate", {})
        software.wait_gone(client, site.site_id, ns_id, within=30)

        chained = client.post_json(
            "nslcm/v1/ns_instances",
            {"nsdId": nsds[samples.FIREWALL_FRR_NSD], "nsName": "fw-frr", "tenantId": tenant},
        )["id"]
        operate(client, chained, "instantiate", instantiate_body(site, dns=False))
        software.wait_ready(client, site.site_id, chained, {"router"}, within=60)
        host = mixed.plug_host(site.lab)
        chain, veth = throughput(site.lab, host, args.rounds, args.seconds, deadline)
        operate(client, chained, "terminate", {})
        software.wait_gone(client, site.site_id, chained, within=30)

    print(
        f"instantiate → operation COMPLETED (the site applied the chain, {len(done)} runs): "
        f"p50 {statistics.median(done):.2f} s, p99 {percentile(done, 99):.2f} s"
    )
    print(
        f"instantiate → third-party VNFs ready (firewall → FRR → dnsmasq, {len(took)} runs, "
        f"site reconcile every {args.reconcile_interval:g} s): p50 {statistics.median(took):.2f}"
        f" s, p99 {percentile(took, 99):.2f} s, max {max(took):.2f} s"
    )
    for vnf, (rss, pss, usage, programs) in sizes.items():
        print(
            f"memory per VNF instance, {THIRD_PARTY[vnf]} ({programs} program{plural(programs)}): "
            f"RSS {rss / 1024:.1f} MiB, PSS {pss / 1024:.1f} MiB, cgroup {usage / 2**20:.1f} MiB"
        )
    if chain and veth:
        through, bare = statistics.median(chain), statistics.median(veth)
        print(
            f"throughput, 1 TCP stream: firewall → FRR {through:.2f} Gbit/s, bare veth "
            f"{bare:.2f} Gbit/s, ratio {through / bare:.2f} (median of {len(chain)} "
            f"interleaved runs of {args.seconds:g} s)"
        )
    return 0


def plural(count: int) -> str:
    return "s" if count > 1 else ""


def run(args: argparse.Namespace) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="ewbench-sw-"))
    fleet = DemoFleet(
        data_dir, 1, linux=True, reconcile_interval=args.reconcile_interval, counters_interval=0
    )
    try:
        return measure(args, data_dir, fleet)
    except LabError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        fleet.close()
        prefix = fleet.sites[0].prefix if fleet.sites else ""
        left = [p.name for p in Path("/run/netns").glob(f"{prefix}-*")] if prefix else []
        if prefix:
            left += [str(p) for p in MEMORY.glob(f"{prefix}-*")]
            left += [str(p) for p in [software.SOFTWARE_BASE / prefix] if p.exists()]
        print(f"left behind: {', '.join(left) or 'nothing'}")
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="instantiations timed")
    parser.add_argument("--rounds", type=int, default=5, help="iperf3 runs of each path")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each iperf3 run")
    parser.add_argument(
        "--reconcile-interval",
        type=float,
        default=1.0,
        help="the site controller's seconds between reconcile passes",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="bound on the run (s)")
    args = parser.parse_args()
    return guarded(lambda: run(args))


if __name__ == "__main__":
    raise SystemExit(main())
