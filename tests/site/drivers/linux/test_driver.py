"""The linux driver's decisions over a kernel in memory: build, change in place, rebuild, adopt,
and one change failing without hiding the others. `plan` decides; the driver does just that."""

from __future__ import annotations

from ipaddress import IPv4Network
from pathlib import Path

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.fakekernel import FakeKernel
from edgewise.site.drivers.linux.layout import (
    GROUP_LAN,
    GROUP_WAN,
    PROTO_CHAIN,
    PROTO_STATIC,
    pick_slot,
)
from edgewise.site.reconcile import Change, ChangeOp, ChangeReason, apply_plan, plan
from tests.site.drivers.chains import FIREWALL, converge, desired, vcpe, with_program
from tests.site.drivers.linux.conftest import SITE
from tests.site.drivers.linux.kit import (
    chain_of,
    inodes,
    legs,
    marker,
    namespaces,
    reconcile,
    spec,
    steps,
)

pytestmark = pytest.mark.anyio
ONLY_8081 = {"default_action": "drop", "rules": [{"protocol": "tcp", "port": 8081}]}


async def test_a_chain_is_built_wired_and_then_left_alone(
    kernel: FakeKernel, driver: LinuxDriver
) -> None:
    state = desired(1, vcpe("svc-1"))

    results = await reconcile(driver, state)

    assert [str(r.change) for r in results] == [
        "create-service svc-1", "create-vnf svc-1/fw", "create-vnf svc-1/nat", "update-chain svc-1"
    ]  # fmt: skip
    assert all(r.changed and not r.failed for r in results)
    found = await namespaces(driver, "svc-1")
    fw, nat = found["fw"], found["nat"]
    assert marker(kernel, fw) == ("firewall", spec(state, "svc-1", "fw").config_digest())
    assert marker(kernel, nat) == ("nat", spec(state, "svc-1", "nat").config_digest())
    assert legs(kernel, fw) == legs(kernel, nat) == [(GROUP_LAN, True), (GROUP_WAN, True)]
    assert kernel.space(fw).sysctls["net.ipv4.ip_forward"] == "1"
    defaults = [r for r in kernel.space(nat).routes if r.destination == IPv4Network("0.0.0.0/0")]
    assert [r.proto for r in defaults] == [PROTO_CHAIN]
    assert plan(state, await driver.observe()) == []
    assert [r.changed for r in await reconcile(driver, state)] == []


async def test_a_config_change_is_loaded_in_place(kernel: FakeKernel, driver: LinuxDriver) -> None:
    await converge(driver, desired(1, vcpe("svc-1")))
    before = inodes(kernel)
    state = desired(2, vcpe("svc-1", ONLY_8081))

    results = await reconcile(driver, state)

    assert steps(results) == [(ChangeOp.UPDATE_VNF_CONFIG, "fw", ChangeReason.CONFIG_CHANGED)]
    assert inodes(kernel) == before  # same namespaces, same links
    fw = (await namespaces(driver, "svc-1"))["fw"]
    assert marker(kernel, fw) == ("firewall", spec(state, "svc-1", "fw").config_digest())
    comments = [item["rule"].get("comment") for item in kernel.table(fw) or [] if "rule" in item]
    assert "rule-0" in comments
    assert "rule-1" not in comments
    assert plan(state, await driver.observe()) == []


async def test_a_function_change_is_rebuilt(kernel: FakeKernel, driver: LinuxDriver) -> None:
    await converge(driver, desired(1, vcpe("svc-1")))
    before = await namespaces(driver, "svc-1")
    old = inodes(kernel)
    router = chain_of("svc-1", ("fw", "firewall", FIREWALL), ("nat", "router", {}))

    results = await reconcile(driver, desired(2, router))

    assert steps(results) == [
        (ChangeOp.DELETE_VNF, "nat", ChangeReason.FUNCTION_CHANGED),
        (ChangeOp.CREATE_VNF, "nat", ChangeReason.FUNCTION_CHANGED),
        (ChangeOp.UPDATE_CHAIN, None, ChangeReason.CHAIN_CHANGED),
    ]
    assert kernel.inode(before["nat"]) not in (None, old[before["nat"]])  # made anew
    assert marker(kernel, before["nat"]) is not None
    assert marker(kernel, before["nat"])[0] == "router"  # type: ignore[index]
    assert plan(desired(2, router), await driver.observe()) == []


async def test_a_router_and_a_rate_limiter_change_in_place(
    kernel: FakeKernel, driver: LinuxDriver
) -> None:
    def service(prefix: str, rate: str) -> dict[str, object]:
        route = {"destination": prefix, "device": "wan"}
        return chain_of(
            "svc-1",
            ("rtr", "router", {"routes": [route]}),
            ("rl", "rate-limiter", {"egress_rate": rate}),
        )

    await converge(driver, desired(1, service("192.0.2.0/24", "10 Mbps")))
    found = await namespaces(driver, "svc-1")
    rtr, rl = found["rtr"], found["rl"]
    before = inodes(kernel)

    results = await reconcile(driver, desired(2, service("198.51.100.0/24", "20 Mbps")))

    assert {r.change.vnf_name for r in results} == {"rtr", "rl"}
    assert {r.change.op for r in results} == {ChangeOp.UPDATE_VNF_CONFIG}
    assert inodes(kernel) == before
    static = [str(r.destination) for r in kernel.space(rtr).routes if r.proto == PROTO_STATIC]
    assert static == ["198.51.100.0/24"]
    assert [q.rate_bytes for q in kernel.space(rl).qdiscs.values()] == [20_000_000 // 8]


async def test_a_restarted_driver_adopts_what_the_kernel_holds(
    kernel: FakeKernel, driver: LinuxDriver, tmp_path: Path
) -> None:
    state = desired(1, vcpe("svc-1"), with_program("svc-2"))
    await converge(driver, state)
    app = (await namespaces(driver, "svc-2"))["app"]
    pid = kernel.programs[app].pid
    before = inodes(kernel)
    await driver.close()

    again = LinuxDriver(SITE, tmp_path / "run", kernel=kernel)
    try:
        observed = await again.observe()
        assert plan(state, observed) == []
        assert [r.changed for r in await apply_plan(again, plan(state, observed))] == []
    finally:
        await again.close()
    assert inodes(kernel) == before
    assert kernel.programs[app].pid == pid  # adopted, not restarted


async def test_one_failing_vnf_does_not_stop_the_others(
    kernel: FakeKernel, driver: LinuxDriver
) -> None:
    state = desired(1, vcpe("svc-1"), vcpe("svc-2"))
    fw = SITE.vnf_namespace(pick_slot("svc-1", set(), SITE.slots), "fw")
    kernel.refuse("nftables", fw, "out of memory")

    results = await reconcile(driver, state)

    outcome = {str(r.change): (r.changed, r.error) for r in results}
    assert outcome == {
        "create-service svc-1": (True, None),
        "create-vnf svc-1/fw": (False, f"nftables in {fw}: out of memory"),
        "create-vnf svc-1/nat": (True, None),
        "update-chain svc-1": (False, "skipped: create-vnf svc-1/fw failed"),
        "create-service svc-2": (True, None),
        "create-vnf svc-2/fw": (True, None),
        "create-vnf svc-2/nat": (True, None),
        "update-chain svc-2": (True, None),
    }
    assert fw not in kernel.spaces  # a failed build leaves nothing behind
    kernel.allow("nftables", fw)
    assert [str(r.change) for r in await reconcile(driver, state)] == [
        "create-vnf svc-1/fw", "update-chain svc-1"
    ]  # fmt: skip
    assert plan(state, await driver.observe()) == []


async def test_applying_a_plan_twice_changes_nothing_the_second_time(
    driver: LinuxDriver,
) -> None:
    state = desired(1, vcpe("svc-1"), with_program("svc-2"))
    changes = plan(state, await driver.observe())
    await apply_plan(driver, changes)

    again = await apply_plan(driver, changes)

    assert [(r.changed, r.failed) for r in again] == [(False, False)] * len(changes)


async def test_a_change_the_kernel_is_not_ready_for_fails_and_nothing_else_is_done(
    kernel: FakeKernel, driver: LinuxDriver
) -> None:
    state = desired(1, with_program("svc-1"))
    await converge(driver, state)
    app = (await namespaces(driver, "svc-1"))["app"]
    kernel.end_program(app)
    [restart] = plan(state, await driver.observe())
    kernel.delete_namespace(app)  # after the plan: the VNF to restart is gone
    before = inodes(kernel)

    [result] = await apply_plan(driver, [restart])

    assert restart.op is ChangeOp.RESTART_VNF
    assert (result.failed, result.error) == (True, f"namespace {app} does not exist")
    assert inodes(kernel) == before  # not rebuilt instead
    repairs = plan(state, await driver.observe())
    assert [str(c) for c in repairs] == ["create-vnf svc-1/app", "update-chain svc-1"]


@pytest.mark.parametrize(
    ("op", "vnf", "error"),
    [
        (ChangeOp.RESTART_VNF, "fw", "VNF svc-1/fw has no program to restart"),
        (ChangeOp.CREATE_VNF, "fw", "VNF svc-1/fw is on the data plane already, not as planned"),
        (ChangeOp.UPDATE_VNF_CONFIG, "nat", "VNF svc-1/nat is not on the data plane"),
    ],
)
async def test_a_change_planned_from_another_view_fails_saying_why(
    kernel: FakeKernel, driver: LinuxDriver, op: ChangeOp, vnf: str, error: str
) -> None:
    await converge(driver, desired(1, chain_of("svc-1", ("fw", "firewall", {}))))
    state = desired(2, vcpe("svc-1", ONLY_8081))
    await driver.observe()
    before = inodes(kernel)
    change = Change(op, "svc-1", vnf, ChangeReason.UNHEALTHY, spec(state, "svc-1", vnf))

    result = await driver.apply(change)

    assert result.failed
    assert (result.error or "").startswith(error)
    assert inodes(kernel) == before
