"""TCP throughput over bare veth, a hand-configured wireguard-go tunnel and an Edgewise overlay
device, side by side in one run between the same two namespaces.

Usage (root): python benchmarks/overlay_throughput.py [--rounds 6] [--seconds 3] [--omit 1]
              [--timeout 300] [--site] [--session-control]

One lab (namespaces named `o` + 4 hex digits, all removed at the end, on error and on Ctrl-C;
every wireguard-go ended by its pid): two namespaces joined by one veth pair. Over that veth:
(a) the bare path; (b) a WireGuard tunnel configured by hand (wireguard-go started by hand,
`wg set`, `ip`; no Edgewise code); (c) an Edgewise overlay device pair (`OverlayEngine.ensure`).
Both tunnels run on wireguard-go (this machine has no kernel WireGuard) with MTU 1420. iperf3
runs of one stream, `--seconds` each after `--omit` left out. A round is (a), then (b) and (c)
back to back, which of the two first alternating (ABBA...): the machine is shared and noisy,
so each round's (c)/(b) compares runs a few seconds apart, and the summary is the median of
the rounds' ratios. Per round and per path: Gbit/s, wireguard-go's CPU seconds per GB (both
ends, from /proc) and its context switches per MB; then the summary, whose first line is
`overlay vs hand wireguard-go: median ratio X (min..max over N rounds)` (goal >= 0.9).
With `--site`, both namespaces are a site's WAN side and the overlay device is made as a site
makes it (overlay_site.py); the hand tunnel crosses the same tables as made by hand. With
`--session-control`, a second hand tunnel whose wireguard-go runs in a session of its own, as
Edgewise started it until it was measured: with the kernel's scheduler autogroups (one per
session) that cost more CPU and context switches per GB (docs/overlay.md, "Throughput").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path
from tempfile import TemporaryDirectory

from dataplane_common import IPERF, Deadline, guarded, iperf_run
from overlay_site import build_wan_side, link_plan, site_device, underlay
from tests.site.drivers.netlab import in_ns, ip
from tests.site.drivers.wireguard.overlab import HandPeer, OverlayLab, overlay_reason, veth

from edgewise.site.drivers.linux.wanplan import LinkPlan
from edgewise.site.drivers.linux.wireguard import (
    Endpoint,
    OverlayDevice,
    OverlayEngine,
    OverlayPeer,
)
from edgewise.site.drivers.linux.wireguard.keys import ensure_key

PATHS = ("bare veth", "wireguard-go by hand", "Edgewise overlay")
CONTROL = "wireguard-go by hand, own session"  # --session-control: what Edgewise did before
ADDRESSES = {"bare veth": "10.60.0.2", "wireguard-go by hand": "10.61.0.2",
             "Edgewise overlay": "10.62.0.2", CONTROL: "10.63.0.2"}  # fmt: skip
PORT = 5301


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--omit", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument(
        "--site", action="store_true",
        help="both namespaces as a site's WAN side (link table and rule, ew_links and ew_steer "
        "tables), the overlay device with the site's marks, table and rules (overlay_site.py)",
    )  # fmt: skip
    parser.add_argument(
        "--session-control", action="store_true",
        help="also a hand tunnel whose wireguard-go runs in a session of its own (setsid), as "
        "Edgewise started it before: the cost of a scheduler autogroup per wireguard-go",
    )  # fmt: skip
    found = parser.parse_args(argv)
    if found.rounds < 1 or found.seconds <= 0 or found.omit < 0 or found.timeout <= 0:
        parser.error(
            "--rounds must be 1 or more; --seconds and --timeout above 0, --omit 0 or more"
        )
    return found


def hand_tunnel(lab: OverlayLab, keys: Path, path: str = PATHS[1]) -> None:
    """(b): a WireGuard tunnel between the two namespaces, configured by hand (the control:
    its wireguard-go in a session of its own)."""
    net, port = ADDRESSES[path].rsplit(".", 1)[0], 51830 + 20 * (path == CONTROL)
    ends = [(lab.ns("x"), f"{net}.1", "10.60.0.1"), (lab.ns("y"), f"{net}.2", "10.60.0.2")]
    names = [f"{lab.prefix}{'s' if path == CONTROL else 'h'}{end}" for end in "xy"]
    start = functools.partial(session_peer, lab) if path == CONTROL else lab.hand_peer
    peers = [start(ns, name, keys / f"{name}.key", ["listen-port", str(port)])
             for (ns, _, _), name in zip(ends, names, strict=True)]  # fmt: skip
    for here, there, (ns, inner, _), (_, far_inner, far_wan) in (
        (peers[0], peers[1], ends[0], ends[1]),
        (peers[1], peers[0], ends[1], ends[0]),
    ):
        subprocess.run(
            ["ip", "netns", "exec", ns, "wg", "set", here.name, "peer", there.public_key,
             "endpoint", f"{far_wan}:{port}", "allowed-ips", f"{far_inner}/32"],
            check=True, timeout=10,
        )  # fmt: skip
        ip("-n", ns, "addr", "add", f"{inner}/24", "dev", here.name)
        ip("-n", ns, "link", "set", here.name, "up")


def session_peer(
    lab: OverlayLab, namespace: str, name: str, key_file: Path, settings: list[str]
) -> HandPeer:
    """A hand peer (`lab.hand_peer`) whose wireguard-go runs in a session of its own; the lab
    ends it by its pid."""
    env = {**os.environ, "WG_PROCESS_FOREGROUND": "1", "LOG_LEVEL": "error"}
    proc = subprocess.Popen(["ip", "netns", "exec", namespace, "wireguard-go", "-f", name],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    lab.procs.append(proc)
    deadline = Deadline(5)
    while not Path(f"/var/run/wireguard/{name}.sock").exists():
        if deadline.expired:
            raise RuntimeError(f"wireguard-go {name} made no socket in 5 s")
        time.sleep(0.02)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(in_ns(namespace, "wg", "genkey") + "\n")
    key_file.chmod(0o600)
    subprocess.run(["ip", "netns", "exec", namespace, "wg", "set", name, "private-key",
                    str(key_file), *settings], check=True, timeout=10)  # fmt: skip
    return HandPeer(namespace, name, key_file, proc)


async def edgewise_tunnel(
    lab: OverlayLab, engine: OverlayEngine, keys: Path, plans: dict[str, LinkPlan] | None
) -> None:
    """(c): an Edgewise overlay device in each namespace, over the same veth (with `plans`, the
    namespaces' links: as a site's overlay plan makes it)."""
    ends = [("x", "10.62.0.1", "10.60.0.1"), ("y", "10.62.0.2", "10.60.0.2")]
    for (name, inner, _), (far, far_inner, far_wan) in ((ends[0], ends[1]), (ends[1], ends[0])):
        device = OverlayDevice(
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
        if plans is not None:
            device = site_device(device, plans[name])
        await engine.ensure(device)
        if plans is not None:
            await engine.underlay(device.namespace, underlay(device))


@dataclass(frozen=True)
class Sample:
    """One iperf3 run over one path, and what the path's wireguard-go processes spent on it."""

    gbps: float
    cpu_s_per_gb: float | None = None  # wireguard-go's CPU seconds per GB received
    switches_per_mb: float | None = None  # wireguard-go's context switches per MB received


Round = dict[str, Sample]


def measure(args: argparse.Namespace) -> int:
    deadline = Deadline(args.timeout)
    lab = OverlayLab(prefix="o" + secrets.token_hex(2))
    print(f"lab prefix: {lab.prefix}", file=sys.stderr, flush=True)
    servers: list[subprocess.Popen[bytes]] = []
    load = os.getloadavg()[0]
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
            plans = None
            if args.site:
                plans = {"x": link_plan("eth0", "10.60.0.1/24", "10.60.0.2"),
                         "y": link_plan("eth0", "10.60.0.2/24", "10.60.0.1")}  # fmt: skip
                for name, plan in plans.items():
                    build_wan_side(lab.ns(name), plan)
                print("site: both namespaces a site's WAN side (link table and rule, ew_links, "
                      "ew_steer); the overlay with the site's marks, table and rules")  # fmt: skip
            paths = (*PATHS, CONTROL) if args.session_control else PATHS
            hand_tunnel(lab, keys)
            programs = {PATHS[0]: [], PATHS[1]: [proc.pid for proc in lab.procs]}
            if args.session_control:
                hand_tunnel(lab, keys, CONTROL)
                programs[CONTROL] = [proc.pid for proc in lab.procs[2:]]
            asyncio.run(edgewise_tunnel(lab, engine, keys, plans))
            programs[PATHS[2]] = [pid for n in engine.devices() if (pid := own_pid(engine, n))]
            for path in paths:
                argv = ["ip", "netns", "exec", lab.ns("y"), IPERF, "-s", "-p",
                        str(port(path)), "-B", ADDRESSES[path]]  # fmt: skip
                servers.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL))  # fmt: skip
            rounds: list[Round] = []
            for number in range(args.rounds):
                tunnels = paths[1:] if number % 2 == 0 else paths[:0:-1]  # ABBA...
                if deadline.left() < len(paths) * (args.seconds + args.omit + 5):
                    print("error: --timeout reached before the rounds ended", file=sys.stderr)
                    return 1
                done = {path: sample(lab, args, path, programs[path])
                        for path in (PATHS[0], *tunnels)}  # fmt: skip
                rounds.append(done)
                print(round_line(number + 1, done), flush=True)
            report(rounds, load, os.getloadavg()[0])
            return 0
        finally:
            for server in servers:
                server.kill()
                server.wait(timeout=5)
            for name in engine.devices():
                engine.processes.stop(name)
            engine.close()
            lab.close()


def sample(lab: OverlayLab, args: argparse.Namespace, path: str, pids: list[int]) -> Sample:
    """One iperf3 run over `path`, and the CPU time and context switches of `pids` during it."""
    cpu, switches = cpu_seconds(pids), context_switches(pids)
    run = iperf_run(lab.ns("x"), ADDRESSES[path], port(path),
                    seconds=args.seconds, streams=1, omit=args.omit)  # fmt: skip
    if not pids:
        return Sample(run.gbps)
    gigabytes = max(run.gbps * (args.seconds + args.omit) / 8, 1e-9)  # wireguard-go ran it all
    return Sample(
        run.gbps,
        (cpu_seconds(pids) - cpu) / gigabytes,
        (context_switches(pids) - switches) / (gigabytes * 1000),
    )


def port(path: str) -> int:
    """The iperf3 port of `path`."""
    return PORT + list(ADDRESSES).index(path)


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


def context_switches(pids: list[int]) -> int:
    """Voluntary and involuntary context switches of every thread of the processes so far."""
    total = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):  # a thread that just ended
                for line in (task / "status").read_text().splitlines():
                    if "ctxt_switches:" in line:
                        total += int(line.split()[1])
    return total


def figures(sample: Sample) -> str:
    found = f"{sample.gbps:.3f} Gbit/s"
    if sample.cpu_s_per_gb is not None and sample.switches_per_mb is not None:
        found += f", {sample.cpu_s_per_gb:.1f} CPU s/GB, {sample.switches_per_mb:.1f} switches/MB"
    return found


def round_line(number: int, done: Round) -> str:
    paths = "; ".join(f"{path} {figures(done[path])}" for path in ADDRESSES if path in done)
    return f"round {number}: {paths}; overlay / hand {ratio(done):.2f}"


def ratio(done: Round) -> float:
    return done[PATHS[2]].gbps / max(done[PATHS[1]].gbps, 1e-9)


def spread(values: list[float], digits: int = 2) -> str:
    """`X (min..max over N rounds)`: the median and the range."""
    return (f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}.."
            f"{max(values):.{digits}f} over {len(values)} rounds)")  # fmt: skip


def report(rounds: list[Round], load_before: float, load_after: float) -> None:
    hand, ours = PATHS[1], PATHS[2]
    for path in (p for p in ADDRESSES if p in rounds[0]):
        gbps = statistics.median(r[path].gbps for r in rounds)
        line = f"{path}: {gbps:.3f} Gbit/s"
        if path != PATHS[0]:
            cpu = statistics.median(r[path].cpu_s_per_gb or 0.0 for r in rounds)
            switches = statistics.median(r[path].switches_per_mb or 0.0 for r in rounds)
            line += (f", {cpu:.1f} CPU s per GB and {switches:.1f} context switches per MB "
                     "in wireguard-go, both ends")  # fmt: skip
        print(f"{line} (medians of {len(rounds)} runs, 1 TCP stream)")
    versus_hand = [ratio(r) for r in rounds]
    print(f"overlay vs hand wireguard-go: median ratio {spread(versus_hand)}")
    verdict = "met" if statistics.median(versus_hand) >= 0.9 else "NOT met"
    print(f"goal: overlay >= 0.9 x hand wireguard-go: {verdict}")
    cost = [(r[hand].cpu_s_per_gb or 0.0) / max(r[ours].cpu_s_per_gb or 0.0, 1e-9)
            for r in rounds]  # fmt: skip
    print(f"overlay vs hand wireguard-go, CPU per GB (hand / overlay): median {spread(cost)}")
    bare = [r[ours].gbps / max(r[PATHS[0]].gbps, 1e-9) for r in rounds]
    print(f"overlay vs bare veth: median ratio {spread(bare, 3)}")
    if CONTROL in rounds[0]:
        own = [r[CONTROL].gbps / max(r[hand].gbps, 1e-9) for r in rounds]
        print(f"own session vs hand wireguard-go: median ratio {spread(own)}")
    print(f"load average: {load_before:.2f} before, {load_after:.2f} after "
          f"({os.cpu_count()} CPUs)")  # fmt: skip


def main(argv: list[str]) -> int:
    args = arguments(argv)
    reason = overlay_reason()
    if reason is not None:
        print(f"error: cannot run: {reason}", file=sys.stderr)
        return 2
    return guarded(lambda: measure(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
