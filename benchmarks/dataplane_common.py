"""Shared by the data-plane benchmarks: the lab of the linux driver's tests, clean-up on every
exit (error, Ctrl-C, SIGTERM), time bounds, percentiles and iperf3 runs.

Importing this module puts the repository root on sys.path, so that the benchmarks reuse the
throwaway lab of `tests/site/drivers/netlab.py` (namespaces named with a random prefix, all
removed by `Lab.close`). Every benchmark is `python benchmarks/dataplane_<name>.py` as root.
"""

from __future__ import annotations

import json
import math
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.site.drivers.netlab import Lab, can_build_namespaces, in_ns  # noqa: E402

IPERF = "/usr/bin/iperf3"


def bench_lab() -> Lab:
    """A lab whose namespaces and links all start with a fresh `b` + 4 hex digits prefix
    (told on stderr, so a caller can check that nothing of it is left)."""
    lab = Lab(prefix="b" + secrets.token_hex(2))
    print(f"lab prefix: {lab.prefix}", file=sys.stderr, flush=True)
    return lab


class Deadline:
    """A time bound for a whole benchmark: `left()` seconds, `expired` once it has passed."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.left() <= 0


def percentile(values: Sequence[float], q: float) -> float:
    """The `q` percentile (0-100) by the nearest-rank method."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def guarded(run: Callable[[], int]) -> int:
    """Runs a benchmark; SIGTERM ends it like Ctrl-C (its `finally` blocks clean up)."""
    reason = can_build_namespaces()
    if reason is not None:
        print(f"error: cannot run: {reason}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return run()
    except KeyboardInterrupt:
        print("interrupted: cleaned up", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def start_iperf_server(lab: Lab, namespace: str, address: str, port: int) -> None:
    """An iperf3 server in `namespace`; the lab stops it (by its pid) when it closes."""
    argv = ["ip", "netns", "exec", namespace, IPERF, "-s", "-p", str(port), "-B", address]
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )  # `ip netns exec` execs iperf3: the pid is iperf3's
    lab.servers.append(proc)


@dataclass(frozen=True)
class IperfRun:
    gbps: float  # received
    cpu_s_per_gb: float  # CPU time of the sender and receiver processes per GB received


def iperf_run(
    client: str, address: str, port: int, *, seconds: float, streams: int, omit: int = 1
) -> IperfRun:
    """One iperf3 TCP run from namespace `client` to a server at `address`.

    The CPU time is iperf3's own figure (getrusage of each side): the forwarding along a chain
    of namespaces runs in softirq context, mostly charged to the sending process. Retries for a
    moment while the server starts listening; raises after 3 s of refusals.
    """
    argv = [IPERF, "-c", address, "-p", str(port), "-t", f"{seconds:g}", "-O", str(omit)]
    argv += ["-P", str(streams), "-J", "--connect-timeout", "1000"]
    deadline = time.monotonic() + 3.0
    out = ""
    while True:
        out = in_ns(client, *argv, timeout=seconds + omit + 15)
        try:
            report = json.loads(out or "{}")
        except ValueError:
            report = {}
        if "error" not in report and "end" in report:
            received = report["end"]["sum_received"]
            cpu = report["end"].get("cpu_utilization_percent", {})
            busy = (cpu.get("host_total", 0.0) + cpu.get("remote_total", 0.0)) / 100
            gigabytes = max(received["bytes"], 1) / 1e9
            return IperfRun(
                received["bits_per_second"] / 1e9, busy * received["seconds"] / gigabytes
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"iperf3 from {client} to {address}:{port} failed: {out[-300:]}")
        time.sleep(0.1)
