"""TCP throughput through bare veth and through 1-, 3- and 5-VNF chains built by the linux driver.

Usage (root): python benchmarks/dataplane_throughput.py [--rounds 5] [--seconds 2] [--omit 1]
              [--chains 1,3,5] [--streams 1,4] [--timeout 300]

One lab (namespaces named with a random `b` + 4 hex digits prefix, all removed at the end, on
error and on Ctrl-C): two namespaces joined by one veth pair (the bare reference), and a site
whose LinuxDriver builds one service per chain length: n-1 stateful firewalls (default drop,
the iperf3 port allowed outbound) then a masquerading NAT. Each service has its own LAN host;
the iperf3 server is on the lab's internet host behind the site's WAN side, so a chain's path
is LAN host -> LAN bridge -> VNF 1..n -> WAN side (a router namespace) -> internet host.

iperf3 runs of `--seconds` (after `--omit` seconds left out), 1 and 4 parallel streams, are
interleaved: every round measures every path in turn, in alternating order (the machine is
noisy). The table shows per path the median Gbit/s of the rounds; the ratio is the median of
the per-round ratios to bare veth (min-max), so that a slow moment of the machine weighs on
both sides of a ratio; CPU is iperf3's own figure of sender + receiver CPU seconds per GB (the
forwarding along a chain runs in softirq context, mostly charged to the sender), less
sensitive to the other load of the machine. Then the goal lines.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from dataclasses import dataclass
from typing import Any

from dataplane_common import (
    Deadline,
    IperfRun,
    bench_lab,
    guarded,
    iperf_run,
    start_iperf_server,
)
from tests.site.drivers.chains import converge, desired
from tests.site.drivers.netlab import INTERNET_HOST, Lab, ip

from edgewise.site.drivers.linux import LinuxDriver

PORT = 5201
BARE_LEFT, BARE_RIGHT = "198.51.100.1", "198.51.100.2"  # inside the lab's namespaces only
GOALS = {1: 0.75, 4: 0.60}  # 3-VNF chain's share of bare veth, by number of streams
BARE, THREE = "bare veth", "3-VNF"


@dataclass(frozen=True)
class Path:
    """Where iperf3's client runs and the server it reaches."""

    name: str
    client: str
    server: str
    vnfs: int  # 0: bare veth


def firewall() -> dict[str, Any]:
    rule = {"action": "accept", "protocol": "tcp", "port": PORT, "direction": "outbound"}
    return {"default_action": "drop", "rules": [rule]}


def chain_service(vnfs: int) -> dict[str, Any]:
    """`vnfs` - 1 firewalls then a NAT, as one service of the desired state."""
    names = [f"fw{i}" for i in range(1, vnfs)]
    functions = [{"name": n, "function": "firewall", "config": firewall()} for n in names]
    functions.append({"name": "nat", "function": "nat", "config": {"mode": "masquerade"}})
    sid = f"chain-{vnfs}"
    return {
        "id": sid, "name": sid, "tenant": "bench",
        "vnfs": functions, "chain": [*names, "nat"],
    }  # fmt: skip


def bare_pair(lab: Lab) -> Path:
    left, right = f"{lab.prefix}-va", f"{lab.prefix}-vb"
    for namespace in (left, right):
        ip("netns", "add", namespace)
        ip("-n", namespace, "link", "set", "lo", "up")
    ip("-n", left, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", right)
    for namespace, address in ((left, BARE_LEFT), (right, BARE_RIGHT)):
        ip("-n", namespace, "addr", "add", f"{address}/30", "dev", "eth0")
        ip("-n", namespace, "link", "set", "eth0", "up")
    start_iperf_server(lab, right, BARE_RIGHT, PORT)
    return Path(BARE, left, BARE_RIGHT, 0)


async def build_chains(lab: Lab, driver: LinuxDriver, lengths: list[int]) -> list[Path]:
    await converge(driver, desired(1, *(chain_service(n) for n in lengths)))
    paths = []
    for n in lengths:
        attachment = await driver.attachment(f"chain-{n}")
        assert attachment is not None
        host = lab.add_host(f"h{n}", attachment)
        paths.append(Path(f"{n}-VNF", host.namespace, INTERNET_HOST, n))
    start_iperf_server(lab, lab.internet, INTERNET_HOST, PORT)
    return paths


Results = dict[tuple[str, int], list[IperfRun]]


def measure(
    paths: list[Path],
    streams: list[int],
    rounds: int,
    seconds: float,
    deadline: Deadline,
    omit: int = 1,
) -> Results:
    """One run of each (path, streams) per round, in alternating order."""
    runs = [(p, s) for s in streams for p in paths]
    results: Results = {(p.name, s): [] for p, s in runs}
    for number in range(rounds):
        if deadline.left() < len(runs) * (seconds + omit + 2):
            print(f"time bound reached: stopped after {number} rounds", file=sys.stderr)
            break
        for path, count in runs if number % 2 == 0 else runs[::-1]:
            found = iperf_run(
                path.client, path.server, PORT, seconds=seconds, streams=count, omit=omit
            )
            results[(path.name, count)].append(found)
        print(f"round {number + 1}/{rounds} done", file=sys.stderr, flush=True)
    return results


def ratios(results: Results, name: str, streams: int) -> list[float]:
    """Per round: the path's Gbit/s over bare veth's in the same round."""
    pairs = zip(results[(name, streams)], results[(BARE, streams)], strict=False)
    return [run.gbps / bare.gbps for run, bare in pairs if bare.gbps > 0]


def report(paths: list[Path], streams: list[int], results: Results) -> None:
    rounds = min((len(v) for v in results.values()), default=0)
    print(
        f"TCP throughput, median of {rounds} interleaved runs; ratio: median of the per-round"
        " ratios to bare veth (min-max); CPU: sender + receiver CPU seconds per GB"
    )
    head = "".join(
        f" | {f'{s} stream' + ('s' if s > 1 else ''):>9} {'ratio':>16} {'CPU':>5}" for s in streams
    )
    print(f"{'path':12}{head}")
    for path in paths:
        cells = ""
        for s in streams:
            runs = results[(path.name, s)]
            if not runs:
                cells += f" | {'-':>9} {'-':>16} {'-':>5}"
                continue
            gbps = statistics.median(r.gbps for r in runs)
            cpu = statistics.median(r.cpu_s_per_gb for r in runs)
            found = ratios(results, path.name, s)
            spread = f"{statistics.median(found):.2f} ({min(found):.2f}-{max(found):.2f})"
            cells += f" | {gbps:9.2f} {spread:>16} {cpu:5.2f}"
        print(f"{path.name:12}{cells}")
    for s, goal in GOALS.items():
        if s not in streams or not results.get((THREE, s)):
            continue
        ratio = statistics.median(ratios(results, THREE, s))
        verdict = "met" if ratio >= goal else "NOT met"
        plural = "s" if s > 1 else ""
        print(
            f"goal: 3-VNF chain >= {goal:.0%} of bare veth with {s} stream{plural}: "
            f"{ratio:.0%} ({verdict})"
        )


async def run(args: argparse.Namespace) -> int:
    deadline = Deadline(args.timeout)
    lab = bench_lab()
    driver: LinuxDriver | None = None
    try:
        lab.start()
        paths = [bare_pair(lab)]
        lengths = [n for n in args.chains if n > 0]
        if lengths:
            driver = LinuxDriver(lab.site)
            paths += await build_chains(lab, driver, lengths)
        results = await asyncio.to_thread(
            measure, paths, args.streams, args.rounds, args.seconds, deadline, args.omit
        )
        report(paths, args.streams, results)
    finally:
        if driver is not None:
            await driver.close()
        lab.close()
    return 0


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--omit", type=int, default=1, help="seconds of each run left out first")
    parser.add_argument("--chains", type=numbers, default=[1, 3, 5])
    parser.add_argument("--streams", type=numbers, default=[1, 4])
    parser.add_argument("--timeout", type=float, default=300.0, help="bound on the whole run (s)")
    args = parser.parse_args()
    return guarded(lambda: asyncio.run(run(args)))


if __name__ == "__main__":
    raise SystemExit(main())
