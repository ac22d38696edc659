"""Faults on a provider of the WAN lab (wanlab.py), set at the far side with the carrier up:
a silent blackout (nftables drop), random loss (nftables `numgen random mod 100 < N drop`), and
delay (iptables-nft `-j NFQUEUE` to a small program that holds each packet N ms: there is no
netem here, and this kernel has xt_NFQUEUE but not nftables' own `queue`). Each acts on what the
site sends into the provider (probes and traffic alike): the drops in one table `inet ewfault`
of the provider's namespace, the queue in its iptables mangle PREROUTING; `mend` removes them.

The delay program (`python -m tests.site.drivers.wanfaults delay QUEUE CONTROL`) reads the
delay in ms from the CONTROL file and moves toward it at most SLOPE_MS_PER_S (a delay that grows,
as a filling buffer's does, rather than a step: a step far above the probes' timeout looks like
a blackout at first, see docs/link-health.md); it releases every packet after the delay in force
when it arrived, by the queue's verdict.
"""

from __future__ import annotations

import contextlib
import heapq
import subprocess
import sys
import time
from pathlib import Path

from tests.site.drivers.netlab import stop
from tests.site.drivers.wanlab import WanLab

TABLE = "inet ewfault"
QUEUE = 7
SLOPE_MS_PER_S = 60.0
RULES = {
    "blackout": 'iifname "site" drop',
    "loss": 'iifname "site" numgen random mod 100 < {percent} drop',
}
QUEUE_RULE = ["PREROUTING", "-i", "site", "-j", "NFQUEUE", "--queue-num", str(QUEUE),
              "--queue-bypass"]  # fmt: skip


def iptables(namespace: str, *args: str, check: bool = True) -> None:
    done = subprocess.run(
        ["ip", "netns", "exec", namespace, "iptables-nft", "-t", "mangle", *args],
        capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    if check and done.returncode != 0:
        raise RuntimeError(f"iptables-nft in {namespace}: {done.stderr.strip()}")


def nft(namespace: str, script: str, *, check: bool = True) -> None:
    done = subprocess.run(
        ["ip", "netns", "exec", namespace, "nft", "-f", "-"],
        input=script, capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    if check and done.returncode != 0:
        raise RuntimeError(f"nft in {namespace}: {done.stderr.strip()}")


class Faults:
    """Faults set on the lab's providers; `close` mends them all and stops the delay programs."""

    def __init__(self, lab: WanLab, workdir: Path) -> None:
        self.lab = lab
        self.workdir = workdir
        self._delays: dict[str, tuple[subprocess.Popen[str], Path]] = {}
        self._set: set[str] = set()

    def blackout(self, link: str) -> None:
        self._rule(link, RULES["blackout"])

    def loss(self, link: str, percent: int) -> None:
        if not 0 <= percent <= 100:
            raise ValueError(f"loss {percent}% is not a percentage")
        self._rule(link, RULES["loss"].format(percent=percent))

    def delay(self, link: str, ms: float) -> None:
        """Packets into the provider wait `ms` (reached at SLOPE_MS_PER_S from the delay now)."""
        running = self._delays.get(link)
        if running is None:
            control = self.workdir / f"delay-{link}"
            control.write_text(f"{ms}\n")
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.lab.provider(link), sys.executable, "-m",
                 "tests.site.drivers.wanfaults", "delay", str(QUEUE), str(control)],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                stop(proc)
                raise RuntimeError(f"the delay program of {link} did not start")
            self._delays[link] = (proc, control)
            iptables(self.lab.provider(link), "-A", *QUEUE_RULE)
            return
        running[1].write_text(f"{ms}\n")

    def mend(self, link: str) -> None:
        nft(self.lab.provider(link), f"delete table {TABLE}\n", check=False)
        self._set.discard(link)
        running = self._delays.pop(link, None)
        if running is not None:
            iptables(self.lab.provider(link), "-D", *QUEUE_RULE, check=False)
            stop(running[0])

    def close(self) -> None:
        for link in [*self._set, *self._delays]:
            self.mend(link)

    def _rule(self, link: str, rule: str) -> None:
        namespace = self.lab.provider(link)
        nft(namespace, f"table {TABLE}\ndelete table {TABLE}\ntable {TABLE} {{\n"
            "  chain pre { type filter hook prerouting priority -300; policy accept;\n"
            f"    {rule}\n  }}\n}}\n")  # fmt: skip
        self._set.add(link)


def run_delay(queue_number: int, control: Path, *, limit_s: float = 3600.0) -> None:
    """The delay program: holds each queued packet, then accepts it (runs at most `limit_s`)."""
    from edgewise.site.drivers.linux.dpi.nfqueue import NetfilterQueue

    queue = NetfilterQueue(queue_number, copy_range=64)
    print("ready", flush=True)
    held: list[tuple[float, int]] = []  # (release time, packet id)
    delay_ms, target_ms, read_at = 0.0, 0.0, 0.0
    started = last = time.monotonic()
    while time.monotonic() - started < limit_s:
        now = time.monotonic()
        if now - read_at >= 0.05:
            with contextlib.suppress(OSError, ValueError):  # being written: the next read
                target_ms = float(control.read_text().strip() or 0)
            read_at = now
        step = SLOPE_MS_PER_S * (now - last)
        delay_ms = min(target_ms, delay_ms + step) if target_ms > delay_ms else max(
            target_ms, delay_ms - step
        )  # fmt: skip
        last = now
        while held and held[0][0] <= now:
            queue.accept(heapq.heappop(held)[1])
        wait = min(0.01, max(0.0, held[0][0] - now)) if held else 0.01
        for packet in queue.receive(max(wait, 0.0005)):
            heapq.heappush(held, (time.monotonic() + delay_ms / 1000, packet.packet_id))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "delay":
        run_delay(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit("usage: python -m tests.site.drivers.wanfaults delay QUEUE CONTROL")
