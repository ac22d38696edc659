"""The linux driver with real traffic: LAN host -> firewall -> NAT -> internet host, and back."""

from __future__ import annotations

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.netns import namespace_inode
from edgewise.site.reconcile import ChangeOp, apply_plan, plan
from tests.site.drivers.chains import (
    FIREWALL,
    converge,
    desired,
    nat_address,
    vcpe,
    with_program,
)
from tests.site.drivers.netlab import INTERNET_HOST, Lab, LanHost

pytestmark = pytest.mark.anyio


async def up_with_host(lab: Lab, driver: LinuxDriver, sid: str = "svc-1") -> LanHost:
    await converge(driver, desired(1, vcpe(sid)))
    attachment = await driver.attachment(sid)
    assert attachment is not None
    return lab.add_host("h1", attachment)


async def test_a_firewall_and_nat_chain_carries_allowed_traffic_only(
    lab: Lab, driver: LinuxDriver
) -> None:
    host = await up_with_host(lab, driver)
    for port in (8080, 9005, 8081):
        lab.serve(lab.internet, port)
    nat = await nat_address(driver, "svc-1")

    assert lab.connect(host.namespace, INTERNET_HOST, 8080) == nat  # the WAN host sees the NAT
    assert lab.connect(host.namespace, INTERNET_HOST, 9005) == nat  # a port range
    assert lab.connect(host.namespace, INTERNET_HOST, 8081).startswith("failed")
    assert lab.ping(host.namespace, INTERNET_HOST)
    assert not lab.ping(lab.internet, host.address)  # inbound is denied by default
    assert lab.connect(lab.internet, host.address, 8080).startswith("failed")


async def test_a_port_forward_reaches_a_lan_server_through_the_firewall(
    lab: Lab, driver: LinuxDriver
) -> None:
    host = await up_with_host(lab, driver)
    lab.serve(host.namespace, 2222)
    lab.serve(host.namespace, 2223)
    nat = await nat_address(driver, "svc-1")
    forwards = [
        {"protocol": "tcp", "port": 2222, "to_address": host.address},
        {"protocol": "tcp", "port": 2223, "to_address": host.address},  # the firewall denies it
    ]
    results = await converge(driver, desired(2, vcpe("svc-1", port_forwards=forwards)))

    assert [(r.change.op, r.changed) for r in results] == [(ChangeOp.UPDATE_VNF_CONFIG, True)]
    assert lab.connect(lab.internet, nat, 2222) == INTERNET_HOST
    assert lab.connect(lab.internet, nat, 2223).startswith("failed")


async def test_icmp_is_dropped_unless_a_rule_allows_it(lab: Lab, driver: LinuxDriver) -> None:
    rules = [r for r in FIREWALL["rules"] if r["protocol"] != "icmp"]
    await converge(driver, desired(1, vcpe("svc-1", {"default_action": "drop", "rules": rules})))
    attachment = await driver.attachment("svc-1")
    assert attachment is not None
    host = lab.add_host("h1", attachment)

    assert not lab.ping(host.namespace, INTERNET_HOST, timeout=0.5)
    lab.serve(lab.internet, 8080)
    assert lab.connect(host.namespace, INTERNET_HOST, 8080) == await nat_address(driver, "svc-1")


async def test_a_config_change_is_applied_in_place_and_keeps_established_flows(
    lab: Lab, driver: LinuxDriver
) -> None:
    host = await up_with_host(lab, driver)
    lab.serve(lab.internet, 8080)
    lab.serve(lab.internet, 8081)
    fw = f"{lab.prefix}-{(await driver.view('svc-1')).services['svc-1'].slot:04x}-fw"
    before = namespace_inode(fw)
    only_8081 = {"default_action": "drop", "rules": [{"protocol": "tcp", "port": 8081}]}

    with lab.held_connection(host.namespace, INTERNET_HOST, 8080) as flow:
        assert flow.still_flows()
        results = await converge(driver, desired(2, vcpe("svc-1", only_8081)))
        assert [r.change.op for r in results] == [ChangeOp.UPDATE_VNF_CONFIG]
        assert flow.still_flows()  # conntrack kept the established flow

    assert namespace_inode(fw) == before  # not rebuilt
    assert lab.connect(host.namespace, INTERNET_HOST, 8080).startswith("failed")
    assert lab.connect(host.namespace, INTERNET_HOST, 8081) == await nat_address(driver, "svc-1")


async def test_applying_the_same_state_twice_changes_nothing(lab: Lab, driver: LinuxDriver) -> None:
    state = desired(1, vcpe("svc-1"), vcpe("svc-2"))
    first = await converge(driver, state)

    assert plan(state, await driver.observe()) == []
    again = [await driver.apply(r.change) for r in first]
    assert [(r.failed, r.changed) for r in again] == [(False, False)] * len(first)


async def test_a_failing_vnf_fails_its_change_and_spares_the_other_services(
    lab: Lab, driver: LinuxDriver
) -> None:
    # a well-formed config the kernel side cannot honour: the program does not exist (a config
    # the contract refuses never reaches a driver: see tests/model)
    bad = with_program("svc-bad", "/nonexistent/edgewise-program")
    state = desired(1, bad, vcpe("svc-1"))
    done = await apply_plan(driver, plan(state, await driver.observe()))
    failed = {str(r.change): r.error for r in done if r.failed and not r.skipped}

    assert list(failed) == ["create-vnf svc-bad/app"]
    assert "/nonexistent/edgewise-program" in (failed["create-vnf svc-bad/app"] or "")
    observed = await driver.observe()
    service = observed.service("svc-1")
    assert service is not None
    assert service.chain == ("fw", "nat")
