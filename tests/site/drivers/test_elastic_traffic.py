"""Elastic VNFs with real traffic: a firewall of 3 instances between a router and a NAT, new
TCP connections spread over the instances by hash, established ones kept where they are through
a scale-out and a scale-in, a draining instance's connection kept until the drain timeout."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.conntrack import CtnetlinkSocket
from edgewise.site.drivers.linux.spread import MASK, mark_of
from tests.site.drivers.chains import FIREWALL, converge, desired
from tests.site.drivers.netlab import (
    INTERNET_HOST,
    Lab,
    LanHost,
    in_ns,
    ip,
    prober,
    stop_processes,
)

pytestmark = pytest.mark.anyio
PORT = 8080
DRAIN_S = 4.0


def elastic(sid: str, instances: int) -> dict[str, Any]:
    """Router `gw` -> firewall `fw` (`instances` of it) -> NAT."""
    fw: dict[str, Any] = {"name": "fw", "function": "firewall", "config": FIREWALL}
    if instances != 1:
        fw["instances"] = instances
    return {
        "id": sid, "name": sid, "tenant": "t1",
        "vnfs": [
            {"name": "gw", "function": "router", "config": {}},
            fw,
            {"name": "nat", "function": "nat", "config": {"mode": "masquerade"}},
        ],
        "chain": ["gw", "fw", "nat"],
    }  # fmt: skip


@pytest.fixture
async def driver(lab: Lab, tmp_path: Path) -> AsyncIterator[LinuxDriver]:
    made = LinuxDriver(lab.site, tmp_path / "run", drain_timeout_s=DRAIN_S)
    try:
        yield made
    finally:
        await made.close()
        stop_processes(tmp_path / "run")


async def up(lab: Lab, driver: LinuxDriver, instances: int) -> LanHost:
    await converge(driver, desired(1, elastic("s1", instances)))
    attachment = await driver.attachment("s1")
    assert attachment is not None
    host = lab.add_host("h1", attachment)
    lab.serve(lab.internet, PORT)
    return host


class Flows:
    """TCP connections held open from a LAN host (in-process, in a thread inside its
    namespace), each echoing what it is sent."""

    def __init__(self, lab: Lab, host: LanHost) -> None:
        self.lab, self.host = lab, host
        self.socks: list[socket.socket] = []
        self._pool = prober(host.namespace)
        self.pool = self._pool.__enter__()

    def open(self, port: int | None = None) -> socket.socket:
        def call() -> socket.socket:
            source = ("0.0.0.0", port) if port is not None else None
            sock = socket.create_connection((INTERNET_HOST, PORT), timeout=3,
                                            source_address=source)  # fmt: skip
            sock.recv(100)  # the server's greeting: the address it saw
            return sock

        sock = self.pool.submit(call).result(timeout=10)
        self.socks.append(sock)
        return sock

    @staticmethod
    def echoes(sock: socket.socket, size: int = 4096) -> bool:
        """Sends `size` bytes and reads them back, byte for byte."""
        payload = bytes(i % 251 for i in range(size))
        try:
            sock.sendall(payload)
            got = b""
            while len(got) < size:
                chunk = sock.recv(size - len(got))
                if not chunk:
                    return False
                got += chunk
        except OSError:
            return False
        return got == payload

    def close(self) -> None:
        for sock in self.socks:
            sock.close()
        self._pool.__exit__(None, None, None)


@contextmanager
def flows(lab: Lab, host: LanHost) -> Iterator[Flows]:
    made = Flows(lab, host)
    try:
        yield made
    finally:
        made.close()


def per_instance(lab: Lab, count: int) -> list[int]:
    """Live connections marked for each instance in the router in front of the firewall."""
    namespace = next(n for n in lab.namespaces() if n.endswith("-gw"))
    with prober(namespace) as pool:

        def count_all() -> list[int]:
            ct = CtnetlinkSocket(namespace)
            try:
                return [ct.count_marked(mark_of(i), MASK) for i in range(count)]
            finally:
                ct.close()

        return pool.submit(count_all).result(timeout=10)


def instance_of(lab: Lab, before: list[int], after: list[int]) -> int:
    (moved,) = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if b == a + 1]
    return moved


async def test_thirty_connections_spread_over_three_instances(
    lab: Lab, driver: LinuxDriver
) -> None:
    host = await up(lab, driver, 3)
    with flows(lab, host) as held:
        socks = [held.open(41000 + i) for i in range(30)]
        counts = per_instance(lab, 3)
        assert sum(counts) == 30, counts
        assert all(c > 0 for c in counts), counts  # every instance took some
        assert all(held.echoes(s) for s in socks)
    observed = (await driver.observe()).service("s1")
    assert observed is not None
    fw = observed.vnf("fw")
    assert fw is not None
    assert sorted(fw.counters["instances"]) == ["0", "1", "2"]
    per = [fw.counters["instances"][k]["rules"]["rule-0"]["packets"] for k in ("0", "1", "2")]
    assert all(p > 0 for p in per), per  # each instance counted its share
    assert fw.counters["rules"]["rule-0"]["packets"] == sum(per)  # and the VNF the sum
    print(f"\n30 connections per instance: {counts}; rule-0 packets per instance: {per}")


async def test_a_scale_out_keeps_established_connections_and_spreads_new_ones(
    lab: Lab, driver: LinuxDriver
) -> None:
    host = await up(lab, driver, 2)
    with flows(lab, host) as held:
        old = [held.open(42000 + i) for i in range(6)]
        before = per_instance(lab, 3)
        started = time.monotonic()
        await converge(driver, desired(2, elastic("s1", 3)))
        took = time.monotonic() - started
        assert all(held.echoes(s) for s in old)  # nothing moved: they echo byte for byte
        assert per_instance(lab, 3)[:2] == before[:2]
        assert before[2] == 0
        new = [held.open(43000 + i) for i in range(24)]
        after = per_instance(lab, 3)
        assert after[2] > 0, after  # the new instance takes new connections
        assert all(held.echoes(s) for s in new + old)
    assert not await converge(driver, desired(2, elastic("s1", 3)))  # converged
    print(f"\nscale-out 2 -> 3 applied in {took:.2f} s; per instance after: {after}")


async def test_a_scale_in_drains_the_leaving_instance_and_breaks_nothing(
    lab: Lab, driver: LinuxDriver
) -> None:
    host = await up(lab, driver, 3)
    with flows(lab, host) as held:
        on: dict[int, socket.socket] = {}
        for i in range(40):  # until one connection sits on each instance (bounded)
            before = per_instance(lab, 3)
            sock = held.open(44000 + i)
            on.setdefault(instance_of(lab, before, per_instance(lab, 3)), sock)
            if len(on) == 3:
                break
        assert sorted(on) == [0, 1, 2]
        started = time.monotonic()
        await converge(driver, desired(2, elastic("s1", 2)))  # instance 2 starts draining
        assert all(held.echoes(s) for s in on.values())
        fresh = [held.open(45000 + i) for i in range(12)]
        counts = per_instance(lab, 3)
        assert counts[2] == 1, counts  # the draining instance took no new connection
        while time.monotonic() - started < DRAIN_S - 1.0:  # passes within the drain timeout
            await converge(driver, desired(2, elastic("s1", 2)))
            assert held.echoes(on[2]), "the draining instance's connection was cut early"
            await anyio.sleep(0.5)
        assert all(held.echoes(s) for s in [on[0], on[1], *fresh])
        await anyio.sleep(max(0.0, DRAIN_S - (time.monotonic() - started)) + 0.2)
        await converge(driver, desired(2, elastic("s1", 2)))  # the timeout passed: removed
        drained = time.monotonic() - started
        assert not [n for n in lab.namespaces() if n.endswith("-fw+2")]
        assert all(held.echoes(s) for s in [on[0], on[1], *fresh])  # the others keep working
    observed = (await driver.observe()).service("s1")
    assert observed is not None
    fw = observed.vnf("fw")
    assert fw is not None
    assert sorted(fw.counters["instances"]) == ["0", "1"]
    assert not await converge(driver, desired(2, elastic("s1", 2)))
    print(f"\nscale-in 3 -> 2: instance 2 removed {drained:.2f} s after (timeout {DRAIN_S} s)")


async def test_a_scale_in_without_flows_on_the_leaving_instance_removes_it_at_once(
    lab: Lab, driver: LinuxDriver
) -> None:
    await up(lab, driver, 3)
    await converge(driver, desired(2, elastic("s1", 1)))
    assert not [n for n in lab.namespaces() if "-fw+" in n]
    gw = next(n for n in lab.namespaces() if n.endswith("-gw"))
    assert "ewspread" not in _ruleset(gw)  # one instance: no spreader left
    assert not await converge(driver, desired(2, elastic("s1", 1)))


async def test_a_deleted_instance_is_rebuilt(lab: Lab, driver: LinuxDriver) -> None:
    host = await up(lab, driver, 3)
    victim = next(n for n in lab.namespaces() if n.endswith("-fw+1"))
    ip("netns", "del", victim)
    results = await converge(driver, desired(1, elastic("s1", 3)))
    assert results  # mended
    assert victim in lab.namespaces()
    with flows(lab, host) as held:
        socks = [held.open(46000 + i) for i in range(15)]
        assert all(c > 0 for c in per_instance(lab, 3))
        assert all(held.echoes(s) for s in socks)


def _ruleset(namespace: str) -> str:
    return in_ns(namespace, "nft", "list", "ruleset")
