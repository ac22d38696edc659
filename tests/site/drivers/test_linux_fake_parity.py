"""The fake kernel held against the real one: the same desired states and the same breakages,
applied through the linux driver over each, give the same results, the same observed state and
the same kernel objects (as far as the driver reads them back). Needs root, as the real does."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux import LinuxDriver, SiteNetwork
from edgewise.site.drivers.linux.fakekernel import FakeKernel
from edgewise.site.drivers.linux.kernel import Kernel
from edgewise.site.drivers.linux.layout import GROUP_WAN, PROTO_CHAIN, PROTO_STATIC
from edgewise.site.drivers.linux.linuxkernel import LinuxKernel
from edgewise.site.drivers.linux.nftjson import FAMILY, TABLE
from edgewise.site.drivers.linux.processes import Supervisor, proc_start_time
from edgewise.site.drivers.linux.shaping import SHAPER_HANDLE
from edgewise.site.reconcile import ObservedState, apply_plan, plan
from tests.site.drivers.chains import FIREWALL, desired, vcpe, with_program
from tests.site.drivers.netlab import Lab, in_ns, ip, link_up, wait_until

pytestmark = pytest.mark.anyio
SETTLE_S = 3.0
ONLY_8081 = {"default_action": "drop", "rules": [{"protocol": "tcp", "port": 8081}]}


def shaped(rate: str, prefix: str = "192.0.2.0/24") -> dict[str, Any]:
    """Firewall -> rate limiter -> router with a static route out of its WAN leg."""
    return {
        "id": "svc-2", "name": "svc-2", "tenant": "t1",
        "vnfs": [
            {"name": "fw", "function": "firewall", "config": FIREWALL},
            {"name": "rl", "function": "rate-limiter",
             "config": {"egress_rate": rate, "ingress_rate": "5 Mbps"}},
            {"name": "rtr", "function": "router",
             "config": {"routes": [{"destination": prefix, "device": "wan"}]}},
        ],
        "chain": ["fw", "rl", "rtr"],
    }  # fmt: skip


STATES = [
    desired(1, with_program("svc-1"), shaped("20 Mbps")),  # built
    desired(2, with_program("svc-1"), shaped("10 Mbps", "198.51.100.0/24")),  # in place
    desired(3, vcpe("svc-1", ONLY_8081), shaped("10 Mbps", "198.51.100.0/24")),  # rebuilt app
    desired(4, with_program("svc-1"), vcpe("svc-3")),  # one service goes, one comes
]


class Pair:
    """The linux driver over the real kernel (the lab's) and over a fake, side by side."""

    def __init__(self, lab: Lab, real: LinuxDriver, runtime: Path) -> None:
        self.lab = lab
        self.real = real
        self.kernel = FakeKernel(lab.site.lan_netns, lab.site.wan_netns)
        self.fake = LinuxDriver(lab.site, runtime, kernel=self.kernel)
        self.reader = LinuxKernel()

    async def close(self) -> None:
        await self.fake.close()
        self.reader.close()

    async def reconcile(self, state: DesiredState) -> None:
        done = []
        for driver in (self.real, self.fake):
            results = await apply_plan(driver, plan(state, await driver.observe()))
            done.append([(str(r.change), r.change.reason, r.changed, r.error) for r in results])
        assert done[0] == done[1]

    async def same(self, state: DesiredState) -> None:
        """Both kernels hold the same, once the real one is done deleting what went (a removed
        namespace's veths go some 40 ms later, more on a busy machine; the fake's at once)."""
        site = self.lab.site
        deadline = time.monotonic() + SETTLE_S
        while True:
            real, fake = await self.real.observe(), await self.fake.observe()
            found = await self.reader.run(lambda: objects(self.reader, site))
            seen = (real, counted(real), plan(state, real), found)
            held = (fake, counted(fake), plan(state, fake), objects(self.kernel, site))
            if seen == held or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert seen == held

    async def vnf(self, sid: str, name: str) -> str:
        return (await self.fake.view(sid)).services[sid].vnfs[name].namespace


async def test_the_fake_kernel_builds_and_changes_as_the_real_one(
    lab: Lab, driver: LinuxDriver, tmp_path: Path
) -> None:
    pair = Pair(lab, driver, tmp_path / "fake")
    try:
        for state in STATES:
            await pair.reconcile(state)
            await pair.same(state)
    finally:
        await pair.close()


BREAKAGES = ["namespace deleted", "link set down", "ruleset flushed", "program killed", "tc"]


async def test_the_fake_kernel_drifts_and_is_mended_as_the_real_one(
    lab: Lab, driver: LinuxDriver, tmp_path: Path
) -> None:
    state = STATES[0]
    pair = Pair(lab, driver, tmp_path / "fake")
    try:
        await pair.reconcile(state)
        for breakage in BREAKAGES:
            settle = await breaking(pair, breakage, driver.runtime_dir)
            await driver.observe()  # releases what the driver held in a deleted namespace
            assert wait_until(settle), breakage
            await pair.same(state)
            await pair.reconcile(state)
            await pair.same(state)
            assert plan(state, await pair.fake.observe()) == [], breakage
    finally:
        await pair.close()


async def breaking(pair: Pair, breakage: str, runtime: Path) -> Callable[[], bool]:
    """Breaks both data planes alike; returns when the real kernel is done breaking."""
    lab, kernel = pair.lab, pair.kernel
    if breakage == "namespace deleted":
        fw = await pair.vnf("svc-1", "fw")
        ip("netns", "del", fw)
        kernel.delete_namespace(fw)
        app = await pair.vnf("svc-1", "app")
        peers = len(lab.links(app))
        return lambda: len(lab.links(app)) < peers  # the veth to fw went with it
    if breakage == "link set down":
        nat = await pair.vnf("svc-1", "nat")
        real_leg = await pair.reader.run(lambda: wan_leg(pair.reader, nat))
        ip("-n", nat, "link", "set", real_leg, "down")
        kernel.set_link_down(nat, wan_leg(kernel, nat))
        peer = real_leg[:-1] + "r"  # its peer on the WAN side: the kernel tells its lost
        return lambda: not link_up(lab.wan, peer)  # carrier (operstate) up to 1 s later
    if breakage == "ruleset flushed":
        nat = await pair.vnf("svc-1", "nat")
        in_ns(nat, "nft", "flush", "ruleset")
        kernel.flush_ruleset(nat)
    elif breakage == "program killed":
        app = await pair.vnf("svc-1", "app")
        status = Supervisor(runtime).status(app)
        assert status is not None
        assert status.pid is not None
        pid = status.pid
        os.kill(pid, signal.SIGKILL)
        kernel.end_program(app)
        return lambda: proc_start_time(pid) is None  # dead (a zombie until observe reaps it)
    else:
        rl = await pair.vnf("svc-2", "rl")
        for leg in lab.links(rl):
            if leg != "lo":
                in_ns(rl, "tc", "qdisc", "del", "dev", leg, "root")
        kernel.remove_qdiscs(rl)
    return lambda: True


def wan_leg(kernel: Kernel, namespace: str) -> str:
    """The name of a VNF's WAN-side leg (random: each kernel has its own)."""
    with kernel.open_netlink(namespace) as nl:
        return next(k.name for k in nl.links() if k.group == GROUP_WAN)


def counted(observed: ObservedState) -> dict[str, Any]:
    """What each VNF counts, numbers left out but for a program's state."""

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: shape(item) for key, item in value.items()}
        return type(value).__name__

    found: dict[str, Any] = {}
    for service in observed.services:
        for vnf in service.vnfs:
            counters = dict(vnf.counters)
            program = counters.pop("process", None)
            found[f"{service.id}/{vnf.name}"] = shape(counters)
            if program is not None:
                found[f"{service.id}/{vnf.name} program"] = (
                    program["running"], program["restarts"], program["exit_code"]
                )  # fmt: skip
    return found


def objects(kernel: Kernel, site: SiteNetwork) -> dict[str, Any]:
    """The site's kernel objects as the driver reads them, link names (random) by their label."""
    found: dict[str, Any] = {}
    sides = [site.lan_netns, site.wan_netns]
    vnfs = [
        n for n in kernel.namespaces(site.namespace_prefix) if site.slot_of_namespace(n) is not None
    ]
    for namespace in [*sides, *vnfs]:
        with kernel.open_netlink(namespace) as nl:
            links = nl.links()
            label = {k.index: k.alias or k.name for k in links}
            found[namespace] = {
                "links": sorted(
                    (
                        label[k.index],
                        k.kind,
                        k.up,
                        k.carrier if k.kind != "bridge" else None,
                        k.group,
                        label.get(k.master) if k.master is not None else None,
                        sorted(str(a) for a in nl.addresses(k.index)),
                    )
                    for k in links
                    if k.name.startswith(site.prefix) or (k.name == "lo" and namespace not in sides)
                ),
                "routes": sorted(
                    (str(r.destination), str(r.gateway), r.proto, label.get(r.oif or 0))
                    for proto in (PROTO_CHAIN, PROTO_STATIC)
                    for r in nl.routes(proto)
                ),
                "buckets": sorted(
                    (label[q.index], q.rate_bytes) for q in nl.qdiscs() if q.handle == SHAPER_HANDLE
                ),
            }
        if namespace not in sides:
            found[namespace]["ruleset"] = ruleset(
                kernel.open_nftables(namespace).list_table(FAMILY, TABLE)
            )
    return found


def ruleset(items: list[dict[str, Any]] | None) -> list[tuple[str, ...]] | None:
    """Chains, named counters and rules (by chain and comment) of a listed table."""
    if items is None:
        return None
    found: list[tuple[str, ...]] = []
    for item in items:
        found.extend((kind, item[kind]["name"]) for kind in ("chain", "counter") if kind in item)
        if "rule" in item:
            rule = item["rule"]
            counted = any(isinstance(e, dict) and "counter" in e for e in rule["expr"])
            found.append(("rule", rule["chain"], str(rule.get("comment")), str(counted)))
    return sorted(found)
