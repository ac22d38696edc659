"""WAN link probes: what they cost while healthy, how fast a silent blackout and a carrier loss
are seen, and (with --flap-minutes) whether 2% random loss under a 5% SLA ever flaps a link.

Usage (root): python benchmarks/probe_overhead.py [--runs 20] [--seconds 10] [--protocol icmp]
              [--flap-minutes 0] [--timeout 900]

The lab of the prober's tests (tests/site/drivers/probing_lab.py: a WAN namespace, two links to
two ISP namespaces, targets behind them; random `p` + 4 hex prefix, all removed at the end, on
error and on Ctrl-C) and the real prober (site/drivers/linux/probing.py) with the default
settings (site/health/settings.py), except a 1 s failback hold in the detection runs so that
each run starts soon after the last (the hold plays no part in detection). One line each:
- overhead: bytes per second of one healthy link's probes and answers, IP bytes counted by
  nftables counters at the far side (measured, not computed), over --seconds;
- silent blackout: the far side starts dropping everything from the site (carrier up); time
  from just before the libnftables call until the prober reports the link down; the blackout
  falls at a random point of the probe period; p50 and max over --runs;
- carrier loss: the far end set down (`ip link set down`, its spawning included); p50, max;
  once on veths the kernel announces at once, once on veths whose ends share an ifindex, as a
  physical NIC's (the kernel's linkwatch batches those, up to 1 s: the prober's question at
  the first miss finds it);
- flap (--flap-minutes M > 0): M minutes with 2% of the probes dropped (numgen random) on a
  link with the default thresholds (loss SLA 5%): the number of state changes (goal: 0).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time

from dataplane_common import Deadline
from tests.site.drivers.netlab import can_build_namespaces
from tests.site.drivers.probing_lab import ECHO_PORT, TARGET_A, TARGET_B, LabLink, ProbeLab

from edgewise.site.drivers.linux.probing import LinkProber
from edgewise.site.health import (
    LinkHealthSettings,
    LinkState,
    ProbeSettings,
    Thresholds,
    Transition,
)


class Changes:
    def __init__(self) -> None:
        self.seen: list[tuple[float, Transition]] = []
        self.cond = threading.Condition()

    def __call__(self, change: Transition) -> None:
        with self.cond:
            self.seen.append((time.monotonic(), change))
            self.cond.notify_all()

    def wait(self, link: str, state: LinkState, since: float, within: float) -> float:
        deadline = time.monotonic() + within
        with self.cond:
            while True:
                for at, change in self.seen:
                    if at >= since and change.link == link and change.new is state:
                        return at
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"link {link} not {state} within {within} s")
                self.cond.wait(left)

    def after(self, since: float) -> list[Transition]:
        with self.cond:
            return [c for at, c in self.seen if at >= since]


def settings(link: LabLink, name: str, protocol: str, thresholds: Thresholds) -> LinkHealthSettings:
    target = TARGET_A if name == "a" else TARGET_B
    probe = ProbeSettings((target,), protocol=protocol, port=ECHO_PORT)  # type: ignore[arg-type]
    return LinkHealthSettings(name, link.name, link.fwmark, link.table, probe, thresholds)


def start(lab: ProbeLab, protocol: str, thresholds: Thresholds) -> tuple[LinkProber, Changes]:
    changes = Changes()
    links = [
        settings(lab.a, "a", protocol, thresholds),
        settings(lab.b, "b", protocol, thresholds),
    ]
    prober = LinkProber(lab.wan, links, changes)
    prober.start()
    changes.wait("a", LinkState.UP, 0, 10)
    changes.wait("b", LinkState.UP, 0, 10)
    return prober, changes


def overhead(lab: ProbeLab, protocol: str, seconds: float) -> None:
    prober, _ = start(lab, protocol, Thresholds())
    try:
        lab.count_probes(lab.a, TARGET_A)
        sent_before = prober.snapshot()["a"].counts.sent
        began = time.monotonic()
        time.sleep(seconds)
        up_packets, up_bytes, down_packets, down_bytes = lab.counted(lab.a)
        elapsed = time.monotonic() - began
        sent = prober.snapshot()["a"].counts.sent - sent_before
    finally:
        prober.stop()
    print(
        f"overhead ({protocol}): {(up_bytes + down_bytes) / elapsed:.0f} B/s per healthy link "
        f"({up_bytes / elapsed:.0f} out + {down_bytes / elapsed:.0f} back, IP bytes; "
        f"{up_packets / elapsed:.1f} probes/s counted at the far side, {sent / elapsed:.1f} sent, "
        f"{down_packets / elapsed:.1f} answers/s; over {elapsed:.1f} s)",
        flush=True,
    )


def detection(
    lab: ProbeLab, protocol: str, runs: int, deadline: Deadline, *, blackouts: bool = True
) -> None:
    quick = Thresholds(failback_hold=1.0)
    prober, changes = start(lab, protocol, quick)
    blackout: list[float] = []
    carrier: list[float] = []
    try:
        for _ in range(runs):
            if deadline.expired:
                break
            if blackouts:
                time.sleep(0.5 + random.random() * 0.5)  # a random point of the probe period
                began = time.monotonic()
                lab.blackout(lab.a)
                blackout.append(changes.wait("a", LinkState.DOWN, began, 5) - began)
                restored = time.monotonic()
                lab.clear_fault(lab.a)
                changes.wait("a", LinkState.UP, restored, 10)
            time.sleep(0.5 + random.random() * 0.5)
            began = time.monotonic()
            lab.carrier(lab.a, up=False)
            carrier.append(changes.wait("a", LinkState.DOWN, began, 5) - began)
            restored = time.monotonic()
            lab.carrier(lab.a, up=True)
            changes.wait("a", LinkState.UP, restored, 10)
    finally:
        prober.stop()
    carrier_name = "carrier loss, batched by linkwatch" if lab.same_index else "carrier loss"
    for name, values in (("silent blackout", blackout), (carrier_name, carrier)):
        if not values:
            continue
        print(
            f"{name} ({protocol}): p50 {1000 * statistics.median(values):.0f} ms, "
            f"max {1000 * max(values):.0f} ms over {len(values)} runs",
            flush=True,
        )


def flap(lab: ProbeLab, protocol: str, minutes: float) -> None:
    prober, changes = start(lab, protocol, Thresholds())
    try:
        began = time.monotonic()
        lab.loss(lab.a, 2)
        before = prober.snapshot()["a"]
        end = began + 60 * minutes
        while time.monotonic() < end:
            time.sleep(min(10.0, max(0.0, end - time.monotonic())))
        after = prober.snapshot()["a"]
        found = [c for c in changes.after(began) if c.link == "a"]
    finally:
        prober.stop()
    sent = after.counts.sent - before.counts.sent
    lost = after.counts.lost - before.counts.lost
    loss = after.figures.loss_pct
    print(
        f"flap ({protocol}): 2% random loss for {minutes:g} min, loss SLA 5%: {len(found)} state "
        f"changes ({sent} probes, {lost} lost = {100 * lost / max(sent, 1):.2f}%; window loss "
        f"at the end {loss if loss is None else round(loss, 2)}%)"
        + "".join(f"\n  {c.old} -> {c.new}: {c.reason}" for c in found),
        flush=True,
    )


def run(args: argparse.Namespace) -> int:
    deadline = Deadline(args.timeout + 60 * args.flap_minutes)
    lab = ProbeLab()
    print(f"lab prefix: {lab.prefix}", file=sys.stderr, flush=True)
    try:
        lab.start()
        if args.protocol == "udp":
            lab.serve_udp_echo()
        overhead(lab, args.protocol, args.seconds)
        detection(lab, args.protocol, args.runs, deadline)
        batched = ProbeLab(prefix=lab.prefix + "n", same_index=True)
        try:
            batched.start()
            if args.protocol == "udp":
                batched.serve_udp_echo()
            detection(batched, args.protocol, args.runs, deadline, blackouts=False)
        finally:
            batched.close()
        if args.flap_minutes > 0:
            flap(lab, args.protocol, args.flap_minutes)
    finally:
        lab.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--protocol", choices=("icmp", "udp"), default="icmp")
    parser.add_argument("--flap-minutes", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    if args.runs < 1 or args.seconds <= 0 or args.flap_minutes < 0:
        parser.error("--runs must be >= 1, --seconds > 0, --flap-minutes >= 0")
    reason = can_build_namespaces()
    if reason is not None:
        print(f"error: cannot run: {reason}", file=sys.stderr)
        return 2
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted: cleaned up", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
