"""Building at a site: 100 services at once, and one 2-VNF chain until traffic flows through it.

Usage (root): python benchmarks/dataplane_build.py [--services 100] [--runs 50] [--timeout 300]

A real SiteController (no central: each desired state comes in through `accept`, which stores
it in the journal and wakes the reconciler) runs the linux driver, drift watch on, in a lab
whose namespaces carry a random `b` + 4 hex digits prefix (all removed at the end, on error and
on Ctrl-C).

1. Scale: `--services` firewall + NAT services in one desired state. Build: from `accept`
   until the controller has applied the revision (journal). Then traffic is checked through
   the first and the last service; the memory of this process (the controller's, with this
   benchmark's small harness) and the kernel's (/proc/meminfo: Slab + Percpu + VmallocUsed +
   KernelStack + PageTables, system-wide, so other activity on the machine shows too); then an
   empty desired state: teardown until applied, and until the kernel has finished deleting
   (the LAN and WAN sides hold only what the lab put there). Left behind: namespaces, links,
   nftables tables in the LAN and WAN sides, processes in a deleted namespace, state files.
2. Time to traffic: `--runs` times, a desired state with one firewall + NAT service arrives
   (`accept`) and a LAN host (its port plugged into the service's new LAN bridge by a thread
   that waits for the bridge) opens TCP connections to the internet host through the chain,
   each given 10 ms, until one works. Between runs the service is removed and the kernel
   given 0.3 s to finish deleting it. (A first connection, not timed, gives the host its ARP
   entry for the gateway, whose MAC a rebuilt chain keeps.) EDGEWISE_BUILD_PHASES=1 prints,
   per run, when the revision was applied, the host plugged and the first connection made.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from dataplane_common import Deadline, bench_lab, guarded, percentile
from tests.site.drivers.chains import vcpe
from tests.site.drivers.netlab import (
    INTERNET_HOST,
    Lab,
    LanHost,
    enter_namespace,
    in_ns,
    probe_until,
    prober,
    stop_processes,
)

from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.linux import LanAttachment, LinuxDriver
from edgewise.site.drivers.linux.netlink import open_netlink
from edgewise.site.drivers.linux.netns import namespace_inode
from edgewise.site.journal import Journal

PORT = 8080
SETTLE_S = 0.3
GOAL_P50_MS, GOAL_P99_MS, GOAL_BUILD_S = 100.0, 250.0, 3.0
KERNEL_MEMORY = ("Slab", "Percpu", "VmallocUsed", "KernelStack", "PageTables")


def meminfo() -> dict[str, int]:
    """/proc/meminfo in KiB."""
    values = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        values[key] = int(rest.split()[0])
    return values


def kernel_kib() -> int:
    info = meminfo()
    return sum(info.get(key, 0) for key in KERNEL_MEMORY)


def rss_kib() -> tuple[int, int]:
    """VmRSS and VmHWM of this process."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(rest.split()[0])
    return found["VmRSS"], found["VmHWM"]


def services(count: int) -> dict[str, Any]:
    return {"services": [vcpe(f"svc-{n:03}") for n in range(count)]}


class Bench:
    def __init__(self, lab: Lab, work: Path, deadline: Deadline) -> None:
        self.lab = lab
        self.work = work
        self.deadline = deadline
        self.revision = 0
        self.driver = LinuxDriver(lab.site, work / "run")
        journal = Journal.open(work / "journal.db")
        self.site = SiteController(journal, self.driver, None, ControllerSettings())
        self.hosts: list[str] = []  # names of the LAN hosts added

    async def apply(self, document: dict[str, Any], bound: float = 60.0) -> float:
        """Seconds from `accept` until the controller has applied the revision."""
        self.revision += 1
        start = time.perf_counter()
        self.site.accept(self.revision, document)
        while self.site.journal.applied_revision() != self.revision:
            if time.perf_counter() - start > min(bound, self.deadline.left()):
                raise RuntimeError(f"revision {self.revision} was not applied in time")
            await asyncio.sleep(0.002)
        return time.perf_counter() - start

    async def traffic_through(self, sid: str) -> bool:
        attachment = await self.driver.attachment(sid)
        assert attachment is not None
        host = self.add_host(attachment)
        with prober(host.namespace) as pool:
            done = await asyncio.to_thread(probe_until, pool, INTERNET_HOST, PORT, within=5.0)
        return done is not None

    def add_host(self, attachment: LanAttachment) -> LanHost:
        self.hosts.append(f"h{len(self.hosts) + 1}")
        return self.lab.add_host(self.hosts[-1], attachment)

    def side_objects(self) -> dict[str, list[str]]:
        """The lab's namespaces, the links and nftables tables of its LAN and WAN sides, but
        the LAN hosts this benchmark added."""
        lab = self.lab
        hosts = {f"{lab.prefix}-{h}" for h in self.hosts} | {f"{lab.prefix}{h}" for h in self.hosts}
        return {
            "namespaces": [n for n in lab.namespaces() if n not in hosts],
            "LAN links": [n for n in lab.links(lab.lan) if n not in hosts],
            "WAN links": lab.links(lab.wan),
            "nft tables": [
                *in_ns(lab.lan, "nft", "list", "tables").splitlines(),
                *in_ns(lab.wan, "nft", "list", "tables").splitlines(),
            ],
        }

    async def scale(self, count: int) -> list[str]:
        before = self.side_objects()
        kernel_before, rss_before = kernel_kib(), rss_kib()[0]
        build = await self.apply(services(count))
        view = await self.driver.view()
        built = sum(len(s.vnfs) for s in view.services.values())
        namespaces = [v.namespace for s in view.services.values() for v in s.vnfs.values()]
        inodes = {i for n in namespaces if (i := namespace_inode(n)) is not None}
        ends = dict.fromkeys((f"svc-{0:03}", f"svc-{count - 1:03}"))
        flows = [await self.traffic_through(sid) for sid in ends]
        await asyncio.sleep(1.0)  # the status pass after the build, and the kernel, settle
        kernel_after, (rss, hwm) = kernel_kib(), rss_kib()
        start = time.perf_counter()
        teardown = await self.apply({"services": []})
        now = self.side_objects()
        while now != before and time.perf_counter() - start < min(60.0, self.deadline.left()):
            await asyncio.sleep(0.05)
            now = self.side_objects()
        kernel_done = time.perf_counter() - start
        leftovers = [f"{k}: {sorted(set(v) - set(before[k]))}" for k, v in now.items()]
        leftovers = [line for line in leftovers if not line.endswith("[]")]
        leftovers += [f"process {pid} in a deleted namespace" for pid in processes_in(inodes)]
        leftovers += [f"state file {p.name}" for p in (self.work / "run").glob("*.json")]
        kernel_left = (kernel_kib() - kernel_before) / 1024
        growth = (kernel_after - kernel_before) / 1024
        grown = (rss - rss_before) / 1024
        per_vnf = growth * 1024 / max(built, 1)
        lines = [f"{count} services ({built} VNFs) on one site:"]
        lines.append(f"  build (accept -> applied): {build:.2f} s")
        lines.append(f"  traffic through the first and last service: {yes(all(flows))}")
        lines.append(
            f"  controller process RSS: {rss / 1024:.0f} MiB ({grown:+.0f} MiB for the services),"
            f" peak {hwm / 1024:.0f} MiB"
        )
        lines.append(
            f"  kernel memory (system-wide): {growth:+.0f} MiB = {per_vnf:.0f} KiB per VNF;"
            f" {kernel_left:+.0f} MiB after teardown"
        )
        lines.append(
            f"  teardown (accept -> applied): {teardown:.2f} s; until the kernel has deleted"
            f" everything (namespaces, veths, bridges): {kernel_done:.2f} s"
        )
        lines.append(f"  left behind: {'; '.join(leftovers) if leftovers else 'nothing'}")
        met = "met" if build <= GOAL_BUILD_S else "NOT met"
        lines.append(f"goal: build {count} services <= {GOAL_BUILD_S:.0f} s: {build:.2f} s ({met})")
        return lines

    async def time_to_traffic(self, runs: int) -> list[str]:
        sid = "svc-ttt"
        await self.apply({"services": [vcpe(sid)]})
        attachment = await self.driver.attachment(sid)
        assert attachment is not None
        host = self.add_host(attachment)
        port = f"{self.lab.prefix}{self.hosts[-1]}"
        times: list[float] = []
        passes: list[int] = []
        phases: list[str] = []
        with prober(host.namespace) as pool:
            # a first connection: the host's ARP entry for its gateway (whose MAC every rebuild
            # keeps) is then there; a host's very first ARP request sent before the chain exists
            # is retried after 1 s by the kernel, which would time the host, not the site
            if await asyncio.to_thread(probe_until, pool, INTERNET_HOST, PORT, within=5.0) is None:
                raise RuntimeError("no traffic through the first chain")
            for number in range(runs):
                if self.deadline.left() < 15:
                    print(f"time bound reached after {number} runs", file=sys.stderr)
                    break
                await self.apply({"services": []})
                await asyncio.sleep(SETTLE_S)
                plug = Plugger(self.lab.lan, attachment.bridge, port)
                before = self.site.passes
                self.revision += 1
                start = time.perf_counter()
                self.site.accept(self.revision, {"services": [vcpe(sid)]})
                applied = asyncio.create_task(self.applied_at(self.revision))
                done = await asyncio.to_thread(
                    probe_until, pool, INTERNET_HOST, PORT, within=5.0, attempt=0.01
                )
                plug.join()
                if done is None:
                    raise RuntimeError(f"run {number}: no traffic through the chain after 5 s")
                times.append((done - start) * 1000)
                built = await applied
                phases.append(
                    f"{(built - start) * 1000:.0f}/{((plug.at or start) - start) * 1000:.0f}"
                    f"/{(done - start) * 1000:.0f}"
                )
                await asyncio.sleep(0.2)
                passes.append(self.site.passes - before)
        if os.environ.get("EDGEWISE_BUILD_PHASES"):
            print("applied/plugged/traffic (ms):", " ".join(phases), file=sys.stderr)
        if not times:
            return ["time to traffic: no run"]
        p50, p99 = statistics.median(times), percentile(times, 99)
        ok = p50 <= GOAL_P50_MS and p99 <= GOAL_P99_MS
        head = f"2-VNF chain, new desired state (accept) -> TCP through it, {len(times)} runs:"
        return [
            (
                f"{head} p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(times):.0f} ms"
                f" (reconcile passes per run: {statistics.median(passes):.0f})"
            ),
            (
                f"goal: p50 <= {GOAL_P50_MS:.0f} ms and p99 <= {GOAL_P99_MS:.0f} ms:"
                f" {'met' if ok else 'NOT met'}"
            ),
        ]

    async def applied_at(self, revision: int) -> float:
        for _ in range(5000):
            if self.site.journal.applied_revision() == revision:
                break
            await asyncio.sleep(0.001)
        return time.perf_counter()


class Plugger(threading.Thread):
    """Plugs the LAN host's port into the service's bridge as soon as the bridge exists."""

    def __init__(self, lan: str, bridge: str, port: str) -> None:
        super().__init__(name="plugger", daemon=True)
        self.lan, self.bridge, self.port = lan, bridge, port
        self.error: str | None = None
        self.at: float | None = None
        self.start()

    def run(self) -> None:
        enter_namespace(self.lan)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            try:
                bridge = socket.if_nametoindex(self.bridge)
            except OSError:
                time.sleep(0.001)
                continue
            with open_netlink(self.lan) as nl:
                nl.set_link(socket.if_nametoindex(self.port), master=bridge)
            self.at = time.perf_counter()
            return
        self.error = f"bridge {self.bridge} did not appear"


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def processes_in(inodes: set[int]) -> list[int]:
    """Pids of processes whose network namespace is one of `inodes`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "ns" / "net").stat().st_ino in inodes:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


async def run(args: argparse.Namespace) -> int:
    deadline = Deadline(args.timeout)
    lab = bench_lab()
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="edgewise-build-") as temporary:
        work = Path(temporary)
        try:
            lab.start()
            lab.serve(lab.internet, PORT)
            bench = Bench(lab, work, deadline)
            async with bench.site:
                if args.services > 0:
                    lines += await bench.scale(args.services)
                    print("\n".join(lines), flush=True)
                if args.runs > 0:
                    more = await bench.time_to_traffic(args.runs)
                    print("\n".join(more), flush=True)
                await bench.apply({"services": []})
        finally:
            stop_processes(work / "run")
            lab.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=300.0, help="bound on the whole run (s)")
    args = parser.parse_args()
    return guarded(lambda: asyncio.run(run(args)))


if __name__ == "__main__":
    raise SystemExit(main())
