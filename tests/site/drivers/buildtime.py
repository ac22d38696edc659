"""Time from a new desired state to traffic flowing through a 2-VNF chain (p50/p99), and scale.

`measure_build_times(runs)` builds the same firewall + NAT service `runs` times in a fresh lab
(removing it, then letting the kernel finish deleting it for SETTLE_S, between runs): each run
times one reconcile pass (observe, plan, apply) and TCP connects from the LAN host to the
internet host until one answers; plugging the LAN host into the new bridge (an `ip` command of
the lab) is left out. EDGEWISE_BUILD_PHASES=1 prints both parts of each run.
`measure_scale(services)` times building, observing and removing that many services.
Run as `python -m tests.site.drivers.buildtime [runs] [services]` (root).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import statistics
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from edgewise.site.drivers.linux import LinuxDriver
from tests.site.drivers.chains import converge, desired, vcpe
from tests.site.drivers.netlab import INTERNET_HOST, NETNS, Lab, ip

CLONE_NEWNET = 0x40000000
PROBE_PORT = 8080
SETTLE_S = 0.3
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class BuildTimes:
    """Milliseconds per run from a new desired state to the first TCP connection through."""

    runs: tuple[float, ...]

    @property
    def p50(self) -> float:
        return statistics.median(self.runs)

    @property
    def p99(self) -> float:
        ordered = sorted(self.runs)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    def __str__(self) -> str:
        return (
            f"2-VNF chain, desired state -> traffic flowing, {len(self.runs)} runs: "
            f"p50 {self.p50:.1f} ms, p99 {self.p99:.1f} ms, max {max(self.runs):.1f} ms"
        )


def _enter(namespace: str) -> None:
    fd = os.open(NETNS / namespace, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {namespace}")
    finally:
        os.close(fd)


@contextmanager
def prober(namespace: str) -> Iterator[ThreadPoolExecutor]:
    """A thread that lives in `namespace` (setns is per thread) for in-process TCP probes."""
    pool = ThreadPoolExecutor(1, initializer=_enter, initargs=(namespace,))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True)


def connects(address: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            return bool(conn.recv(100))  # the server's first line: data came back
    except OSError:
        return False


def probe_until_through(pool: ThreadPoolExecutor, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pool.submit(connects, INTERNET_HOST, PROBE_PORT, 0.05).result():
            return True
    return False


async def _measure(lab: Lab, runs: int) -> BuildTimes:
    driver = LinuxDriver(lab.site)
    try:
        state = desired(1, vcpe("svc-bench"))
        await converge(driver, state)
        attachment = await driver.attachment("svc-bench")
        assert attachment is not None
        host = lab.add_host("h1", attachment)
        port = f"{lab.prefix}h1"
        lab.serve(lab.internet, PROBE_PORT)
        times: list[float] = []
        phases: list[tuple[float, float]] = []
        with prober(host.namespace) as pool:
            for n in range(runs):
                await converge(driver, desired(2 * n + 2))
                await asyncio.sleep(SETTLE_S)  # let the kernel finish deleting the last run's
                start = time.perf_counter()
                await converge(driver, desired(2 * n + 3, vcpe("svc-bench")))
                built = time.perf_counter()
                # plugging the LAN host (an `ip` subprocess) is the lab's work, not the site's
                ip("-n", lab.lan, "link", "set", port, "master", attachment.bridge)
                plugged = time.perf_counter()
                if not probe_until_through(pool):
                    raise AssertionError(f"run {n}: no traffic through the chain after 5 s")
                times.append((built - start + time.perf_counter() - plugged) * 1000)
                phases.append(((built - start) * 1000, (time.perf_counter() - plugged) * 1000))
        if os.environ.get("EDGEWISE_BUILD_PHASES"):
            print("reconcile / until traffic (ms):", [(round(a), round(b)) for a, b in phases])
        return BuildTimes(tuple(times))
    finally:
        await driver.close()


def measure_build_times(runs: int = 50) -> BuildTimes:
    """p50/p99 over `runs` builds of a 2-VNF chain until traffic flows (needs root)."""
    lab = Lab()
    try:
        lab.start()
        return asyncio.run(_measure(lab, runs))
    finally:
        lab.close()


@dataclass(frozen=True)
class ScaleTimes:
    services: int
    build_s: float
    observe_s: float
    teardown_s: float

    def __str__(self) -> str:
        return (
            f"{self.services} services ({2 * self.services} VNFs): build {self.build_s:.2f} s, "
            f"observe {self.observe_s * 1000:.0f} ms, teardown {self.teardown_s:.2f} s"
        )


async def _scale(lab: Lab, services: int) -> ScaleTimes:
    driver = LinuxDriver(lab.site)
    try:
        state = desired(1, *(vcpe(f"svc-{n:03}") for n in range(services)))
        start = time.perf_counter()
        await converge(driver, state)
        built = time.perf_counter()
        observed = await driver.observe()
        seen = time.perf_counter()
        assert len(observed.services) == services
        await converge(driver, desired(2))
        done = time.perf_counter()
        return ScaleTimes(services, built - start, seen - built, done - seen)
    finally:
        await driver.close()


def measure_scale(services: int = 100) -> ScaleTimes:
    """Time to build, observe and remove `services` firewall + NAT services on one site."""
    lab = Lab()
    try:
        lab.start()
        return asyncio.run(_scale(lab, services))
    finally:
        lab.close()


if __name__ == "__main__":
    print(measure_build_times(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
    if len(sys.argv) > 2:
        print(measure_scale(int(sys.argv[2])))
