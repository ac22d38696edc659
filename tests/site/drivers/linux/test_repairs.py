"""Drift over a kernel in memory, planned as the right repair and mended by the linux driver:
rebuilt only what is gone, everything else in place; and the controller hearing of it at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.fakekernel import FakeKernel
from edgewise.site.drivers.linux.layout import GROUP_LAN, GROUP_WAN
from edgewise.site.journal import Journal
from edgewise.site.reconcile import ChangeOp, ChangeReason, VnfFault, plan
from tests.site.drivers.chains import converge, desired, vcpe, with_program
from tests.site.drivers.linux.kit import (
    Step,
    chain_of,
    inodes,
    legs,
    marker,
    namespaces,
    reconcile,
    steps,
)
from tests.site.fakes import eventually

pytestmark = pytest.mark.anyio
DEFAULT_ROUTE = IPv4Network("0.0.0.0/0")


def wan_leg(kernel: FakeKernel, namespace: str) -> str:
    return next(k.name for k in kernel.space(namespace).links.values() if k.group == GROUP_WAN)


BREAKAGES: dict[str, tuple[Callable[[FakeKernel, dict[str, str]], None], list[Step]]] = {
    "namespace deleted": (
        lambda kernel, ns: kernel.delete_namespace(ns["fw"]),
        [
            (ChangeOp.CREATE_VNF, "fw", ChangeReason.MISSING),
            (ChangeOp.UPDATE_CHAIN, None, ChangeReason.CHAIN_CHANGED),
        ],
    ),
    "ruleset flushed": (
        lambda kernel, ns: kernel.flush_ruleset(ns["nat"]),
        [(ChangeOp.UPDATE_VNF_CONFIG, "nat", ChangeReason.UNHEALTHY)],
    ),
    "link set down": (
        lambda kernel, ns: kernel.set_link_down(ns["nat"], wan_leg(kernel, ns["nat"])),
        [(ChangeOp.UPDATE_CHAIN, None, ChangeReason.UNHEALTHY)],
    ),
    "program killed": (
        lambda kernel, ns: kernel.end_program(ns["app"]),
        [(ChangeOp.RESTART_VNF, "app", ChangeReason.UNHEALTHY)],
    ),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
async def test_drift_is_planned_as_its_repair_and_mended(
    kernel: FakeKernel, driver: LinuxDriver, breakage: str
) -> None:
    state = desired(1, with_program("svc-1"))
    await converge(driver, state)
    found = await namespaces(driver, "svc-1")
    before = inodes(kernel)
    breaking, repairs = BREAKAGES[breakage]
    breaking(kernel, found)

    results = await reconcile(driver, state)

    assert steps(results) == repairs
    assert all(r.changed for r in results)
    assert plan(state, await driver.observe()) == []
    rebuilt = {n for n, inode in inodes(kernel).items() if before.get(n) != inode}
    assert rebuilt == ({found["fw"]} if breakage == "namespace deleted" else set())
    for name in ("fw", "app", "nat"):  # whole again: legs up, routes back, ruleset loaded
        assert legs(kernel, found[name]) == [(GROUP_LAN, True), (GROUP_WAN, True)]
        assert DEFAULT_ROUTE in {r.destination for r in kernel.space(found[name]).routes}
        assert marker(kernel, found[name]) is not None
    now = kernel.programs[found["app"]]
    assert now.alive
    assert now.restarts == (1 if breakage == "program killed" else 0)


async def test_a_program_that_may_rest_is_left_alone(
    kernel: FakeKernel, driver: LinuxDriver
) -> None:
    state = desired(1, chain_of("svc-1", ("app", "process", {"command": "true"})))
    await converge(driver, state)
    app = (await namespaces(driver, "svc-1"))["app"]

    kernel.end_program(app, exit_code=0)  # done, under the default policy (on-failure)

    observed = await driver.observe()
    assert plan(state, observed) == []
    service = observed.service("svc-1")
    assert service is not None
    assert service.vnfs[0].counters["process"]["exit_code"] == 0


async def test_lost_token_buckets_are_set_again_in_place(
    kernel: FakeKernel, driver: LinuxDriver
) -> None:
    limiter = {"egress_rate": "20 Mbps", "ingress_rate": "10 Mbps"}
    state = desired(1, chain_of("svc-1", ("rl", "rate-limiter", limiter)))
    await converge(driver, state)
    rl = (await namespaces(driver, "svc-1"))["rl"]
    before = inodes(kernel)
    kernel.remove_qdiscs(rl)

    observed = await driver.observe()
    service = observed.service("svc-1")
    assert service is not None
    assert service.vnfs[0].faults == {VnfFault.SHAPING_MISSING}
    results = await reconcile(driver, state)

    assert steps(results) == [(ChangeOp.UPDATE_VNF_CONFIG, "rl", ChangeReason.UNHEALTHY)]
    assert sorted(q.rate_bytes or 0 for q in kernel.space(rl).qdiscs.values()) == [
        10_000_000 // 8, 20_000_000 // 8
    ]  # fmt: skip
    assert inodes(kernel) == before


async def test_counters_are_read_back_from_the_rulesets(
    kernel: FakeKernel, driver: LinuxDriver
) -> None:
    await converge(driver, desired(1, vcpe("svc-1")))
    fw = (await namespaces(driver, "svc-1"))["fw"]
    table = kernel.space(fw).tables["inet", "edgewise"]
    rule = next(r for r in table.rules if r.get("comment") == "rule-0")
    counter = next(e["counter"] for e in rule["expr"] if "counter" in e)
    counter.update(packets=3, bytes=180)

    service = (await driver.observe()).service("svc-1")

    assert service is not None
    fw_vnf = service.vnf("fw")
    assert fw_vnf is not None
    assert fw_vnf.counters["rules"]["rule-0"] == {"packets": 3, "bytes": 180}


async def test_the_controller_hears_of_drift_and_mends_it_at_once(
    kernel: FakeKernel, driver: LinuxDriver, tmp_path: Path
) -> None:
    timer = ControllerSettings(reconcile_interval=60.0)  # only the drift watch can wake it
    site = SiteController(Journal.open(tmp_path / "journal.db"), driver, None, timer)
    async with site:
        site.accept(1, {"services": [with_program("svc-1")]})
        await eventually(lambda: site.journal.applied_revision() == 1)
        app = (await namespaces(driver, "svc-1"))["app"]
        pid = kernel.programs[app].pid
        await asyncio.sleep(0.05)  # the watch runs

        kernel.end_program(app)

        await eventually(lambda: kernel.programs[app].alive, within=1.0)
        assert kernel.programs[app].pid != pid
        await eventually(lambda: repaired(site) != [])
        assert repaired(site) == [("vnf-repaired", "restart-vnf", ["process-down"])]


def repaired(site: SiteController) -> list[tuple[str, str, list[str]]]:
    events = [item.body for item in site.journal.pending() if item.kind == "event"]
    return [(e["event"], e["op"], e["faults"]) for e in events if e["event"].endswith("repaired")]
