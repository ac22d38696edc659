"""TCP throughput over bare veth, a hand-configured wireguard-go tunnel and an Edgewise overlay
device, side by side in one run between the same two namespaces.

Usage (root): python benchmarks/overlay_throughput.py [--rounds 3] [--seconds 3] [--omit 1]
              [--timeout 120]

One lab (namespaces named `o` + 4 hex digits, all removed at the end, on error and on Ctrl-C;
every wireguard-go ended by its pid): two namespaces joined by one veth pair. Over that veth:
(a) the bare path; (b) a WireGuard tunnel configured by hand (wireguard-go started by hand,
`wg set`, `ip`; no Edgewise code); (c) an Edgewise overlay device pair (`OverlayEngine.ensure`).
Both tunnels run on wireguard-go (this machine has no kernel WireGuard) with MTU 1420. iperf3
runs of one stream, `--seconds` each after `--omit` left out, interleaved: every round measures
every path in turn, in alternating order (the machine is noisy). One line per figure: each
path's median Gbit/s, then (c)/(b) (goal >= 0.9) and (c)/(a), each the median of the rounds'
ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path
from tempfile import TemporaryDirectory

from dataplane_common import IPERF, Deadline, guarded, iperf_run
from tests.site.drivers.netlab import ip
from tests.site.drivers.wireguard.overlab import OverlayLab, overlay_reason, veth

from edgewise.site.drivers.linux.wireguard import (
    Endpoint,
    OverlayDevice,
    OverlayEngine,
    OverlayPeer,
)
from edgewise.site.drivers.linux.wireguard.keys import ensure_key

PATHS = ("bare veth", "wireguard-go by hand", "Edgewise overlay")
ADDRESSES = {"bare veth": "10.60.0.2", "wireguard-go by hand": "10.61.0.2",
             "Edgewise overlay": "10.62.0.2"}  # fmt: skip
PORT = 5301


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--omit", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=120.0)
    found = parser.parse_args(argv)
    if found.rounds < 1 or found.seconds <= 0 or found.omit < 0 or found.timeout <= 0:
        parser.error(
            "--rounds must be 1 or more; --seconds and --timeout above 0, --omit 0 or more"
        )
    return found


def hand_tunnel(lab: OverlayLab, keys: Path) -> None:
    """(b): a WireGuard tunnel between the two namespaces, configured by hand."""
    ends = [(lab.ns("x"), "10.61.0.1", "10.60.0.1"), (lab.ns("y"), "10.61.0.2", "10.60.0.2")]
    names = [f"{lab.prefix}hx", f"{lab.prefix}hy"]
    peers = [lab.hand_peer(ns, name, keys / f"{name}.key", ["listen-port", "51830"])
             for (ns, _, _), name in zip(ends, names, strict=True)]  # fmt: skip
    for here, there, (ns, inner, _), (_, far_inner, far_wan) in (
        (peers[0], peers[1], ends[0], ends[1]),
        (peers[1], peers[0], ends[1], ends[0]),
    ):
        subprocess.run(
            ["ip", "netns", "exec", ns, "wg", "set", here.name, "peer", there.public_key,
             "endpoint", f"{far_wan}:51830", "allowed-ips", f"{far_inner}/32"],
            check=True, timeout=10,
        )  # fmt: skip
        ip("-n", ns, "addr", "add", f"{inner}/24", "dev", here.name)
        ip("-n", ns, "link", "set", here.name, "up")


async def edgewise_tunnel(lab: OverlayLab, engine: OverlayEngine, keys: Path) -> None:
    """(c): an Edgewise overlay device in each namespace, over the same veth."""
    ends = [("x", "10.62.0.1", "10.60.0.1"), ("y", "10.62.0.2", "10.60.0.2")]
    for (name, inner, _), (far, far_inner, far_wan) in ((ends[0], ends[1]), (ends[1], ends[0])):
        await engine.ensure(
            OverlayDevice(
                name=f"{lab.prefix}e{name}",
                namespace=lab.ns(name),
                private_key_file=keys / f"e{name}.key",
                listen_port=51840,
                fwmark=0,
                address=IPv4Interface(f"{inner}/24"),
                peers=(
                    OverlayPeer(
                        ensure_key(keys / f"e{far}.key"),
                        Endpoint.parse(f"{far_wan}:51840"),
                        (IPv4Network(f"{far_inner}/32"),),
                    ),
                ),
                table=None,  # the /24 of the inner address routes it
            )
        )


def measure(args: argparse.Namespace) -> int:
    deadline = Deadline(args.timeout)
    lab = OverlayLab(prefix="o" + secrets.token_hex(2))
    print(f"lab prefix: {lab.prefix}", file=sys.stderr, flush=True)
    servers: list[subprocess.Popen[bytes]] = []
    with TemporaryDirectory() as scratch:
        engine = OverlayEngine(Path(scratch) / "run")
        try:
            for name in ("x", "y"):
                ip("netns", "add", lab.ns(name))
                ip("-n", lab.ns(name), "link", "set", "lo", "up")
            veth(lab.ns("x"), "eth0", "10.60.0.1/24", lab.ns("y"), "eth0", "10.60.0.2/24")
            keys = Path(scratch) / "keys"
            for name in ("ex", "ey"):
                ensure_key(keys / f"{name}.key")
            hand_tunnel(lab, keys)
            asyncio.run(edgewise_tunnel(lab, engine, keys))
            programs = {  # the wireguard-go processes of each tunnel, both ends
                PATHS[1]: [proc.pid for proc in lab.procs],
                PATHS[2]: [pid for n in engine.devices() if (pid := own_pid(engine, n))],
            }
            for path in PATHS:
                argv = ["ip", "netns", "exec", lab.ns("y"), IPERF, "-s", "-p",
                        str(PORT + PATHS.index(path)), "-B", ADDRESSES[path]]  # fmt: skip
                servers.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL))  # fmt: skip
            gbps: dict[str, list[float]] = {path: [] for path in PATHS}
            cpu: dict[str, list[float]] = {path: [] for path in PATHS[1:]}
            for number in range(args.rounds):
                order = PATHS if number % 2 == 0 else tuple(reversed(PATHS))
                for path in order:
                    if deadline.left() < args.seconds + args.omit + 5:
                        print("error: --timeout reached before the rounds ended", file=sys.stderr)
                        return 1
                    before = cpu_seconds(programs.get(path, []))
                    run = iperf_run(lab.ns("x"), ADDRESSES[path], PORT + PATHS.index(path),
                                    seconds=args.seconds, streams=1, omit=args.omit)  # fmt: skip
                    gbps[path].append(run.gbps)
                    if path in cpu:  # wireguard-go's CPU per GB that iperf3 counted
                        used = cpu_seconds(programs[path]) - before
                        cpu[path].append(used / max(run.gbps * args.seconds / 8, 1e-9))
            report(gbps, cpu)
            return 0
        finally:
            for server in servers:
                server.kill()
                server.wait(timeout=5)
            for name in engine.devices():
                engine.processes.stop(name)
            engine.close()
            lab.close()


def own_pid(engine: OverlayEngine, name: str) -> int | None:
    record = engine.processes.record(name)
    return record.pid if record is not None else None


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes used so far (all their threads)."""
    ticks = 0
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def report(gbps: dict[str, list[float]], cpu: dict[str, list[float]]) -> None:
    bare, hand, ours = (gbps[path] for path in PATHS)
    for path in PATHS:
        print(f"{path}: {statistics.median(gbps[path]):.2f} Gbit/s "
              f"(median of {len(gbps[path])} runs, 1 TCP stream)")  # fmt: skip
    versus_hand = [c / b for c, b in zip(ours, hand, strict=True)]
    versus_bare = [c / a for c, a in zip(ours, bare, strict=True)]
    for path, costs in cpu.items():
        print(f"{path}: {statistics.median(costs):.2f} CPU s per GB in wireguard-go, both ends "
              f"(median of {len(costs)} runs)")  # fmt: skip
    cost = [b / c for b, c in zip(cpu[PATHS[1]], cpu[PATHS[2]], strict=True)]
    verdict = "met" if statistics.median(versus_hand) >= 0.9 else "NOT met"
    print(f"Edgewise overlay / wireguard-go by hand: {statistics.median(versus_hand):.2f} "
          f"({min(versus_hand):.2f}-{max(versus_hand):.2f}; goal >= 0.9: {verdict})")  # fmt: skip
    print(f"Edgewise overlay efficiency / wireguard-go by hand (CPU per GB, by hand / ours): "
          f"{statistics.median(cost):.2f} ({min(cost):.2f}-{max(cost):.2f})")  # fmt: skip
    print(f"Edgewise overlay / bare veth: {statistics.median(versus_bare):.3f} "
          f"({min(versus_bare):.3f}-{max(versus_bare):.3f})")  # fmt: skip


def main(argv: list[str]) -> int:
    args = arguments(argv)
    reason = overlay_reason()
    if reason is not None:
        print(f"error: cannot run: {reason}", file=sys.stderr)
        return 2
    return guarded(lambda: measure(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
