"""The linux driver's life cycle: no leak on removal, drift repaired, a restart adopts the chain."""

from __future__ import annotations

import subprocess

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.netns import namespace_inode
from edgewise.site.reconcile import ChangeOp, ChangeReason, plan
from tests.site.drivers.chains import converge, desired, nat_address, vcpe
from tests.site.drivers.netlab import INTERNET_HOST, Lab, LanHost, in_ns, ip, wait_until

pytestmark = pytest.mark.anyio


def kernel_objects(lab: Lab) -> dict[str, list[str]]:
    """Every namespace of the lab, and the links and routes in its LAN and WAN sides."""
    return {
        "namespaces": lab.namespaces(),
        "lan links": lab.links(lab.lan),
        "wan links": lab.links(lab.wan),
        "wan routes": ip("-n", lab.wan, "route", "show").splitlines(),
    }


async def service_with_host(lab: Lab, driver: LinuxDriver) -> LanHost:
    await converge(driver, desired(1, vcpe("svc-1")))
    attachment = await driver.attachment("svc-1")
    assert attachment is not None
    host = lab.add_host("h1", attachment)
    lab.serve(lab.internet, 8080)
    return host


async def vnf_namespace(driver: LinuxDriver, name: str) -> str:
    view = await driver.view("svc-1")
    return view.services["svc-1"].vnfs[name].namespace


async def test_removing_services_leaves_no_kernel_object_behind(
    lab: Lab, driver: LinuxDriver
) -> None:
    before = kernel_objects(lab)
    await converge(driver, desired(1, vcpe("svc-1"), vcpe("svc-2")))
    assert len(lab.namespaces()) == len(before["namespaces"]) + 4

    results = await converge(driver, desired(2))

    assert [r.change.op for r in results] == [ChangeOp.DELETE_SERVICE] * 2
    # the bridges go at the driver's next call (after the namespaces: one clean-up batch)
    assert (await driver.observe()).services == ()
    # the kernel deletes the veths of a removed namespace within some 40 ms
    assert wait_until(lambda: kernel_objects(lab) == before, timeout=3.0), kernel_objects(lab)


REPAIRS = {
    "namespace deleted": [
        (ChangeOp.CREATE_VNF, "fw", ChangeReason.MISSING),
        (ChangeOp.UPDATE_CHAIN, None, ChangeReason.CHAIN_CHANGED),
    ],
    "link down": [(ChangeOp.UPDATE_CHAIN, None, ChangeReason.UNHEALTHY)],
    "ruleset flushed": [(ChangeOp.UPDATE_VNF_CONFIG, "nat", ChangeReason.UNHEALTHY)],
}


@pytest.mark.parametrize("breakage", list(REPAIRS))
async def test_drift_is_observed_and_repaired(lab: Lab, driver: LinuxDriver, breakage: str) -> None:
    host = await service_with_host(lab, driver)
    fw, nat = await vnf_namespace(driver, "fw"), await vnf_namespace(driver, "nat")
    lan_links = len(lab.links(lab.lan))
    nat_inode = namespace_inode(nat)
    if breakage == "namespace deleted":
        ip("netns", "del", fw)
    elif breakage == "link down":
        wan_leg = next(name for name in lab.links(nat) if name.endswith("l"))
        ip("-n", nat, "link", "set", wan_leg, "down")
    else:
        in_ns(nat, "nft", "flush", "ruleset")  # no masquerade: replies cannot come back
    # the driver keeps its sockets in a namespace until its next call sees the namespace gone
    changes = plan(desired(1, vcpe("svc-1")), await driver.observe())
    if breakage == "namespace deleted":  # its veths (and their peers) go some 40 ms later
        assert wait_until(lambda: len(lab.links(lab.lan)) < lan_links)
    assert lab.connect(host.namespace, INTERNET_HOST, 8080, timeout=0.5).startswith("failed")

    results = await converge(driver, desired(1, vcpe("svc-1")))

    assert [(c.op, c.vnf_name, c.reason) for c in changes] == REPAIRS[breakage]
    assert all(r.changed for r in results)
    # 3 s: room for one SYN retransmission when the machine is loaded (CI runs two workers)
    answer = lab.connect(host.namespace, INTERNET_HOST, 8080, timeout=3.0)
    assert answer == await nat_address(driver, "svc-1")
    assert plan(desired(1, vcpe("svc-1")), await driver.observe()) == []
    assert namespace_inode(nat) == nat_inode  # the NAT was mended in place, not rebuilt


async def test_a_restarted_driver_adopts_the_running_chain(lab: Lab, driver: LinuxDriver) -> None:
    host = await service_with_host(lab, driver)
    inodes = {name: namespace_inode(await vnf_namespace(driver, name)) for name in ("fw", "nat")}

    with lab.held_connection(host.namespace, INTERNET_HOST, 8080) as flow:
        await driver.close()
        restarted = LinuxDriver(lab.site, driver.runtime_dir)
        try:
            assert plan(desired(1, vcpe("svc-1")), await restarted.observe()) == []
            assert flow.still_flows()
            after = {n: namespace_inode(await vnf_namespace(restarted, n)) for n in ("fw", "nat")}
        finally:
            await restarted.close()
    assert after == inodes


async def test_twenty_services_each_with_its_chain_are_isolated(
    lab: Lab, driver: LinuxDriver
) -> None:
    sids = [f"svc-{n:02}" for n in range(20)]
    await converge(driver, desired(1, *(vcpe(sid) for sid in sids)))
    hosts = []
    for n, sid in enumerate(sids):
        attachment = await driver.attachment(sid)
        assert attachment is not None
        hosts.append(lab.add_host(f"h{n}", attachment))
        lab.serve(hosts[-1].namespace, 8080)
    lab.serve(lab.internet, 8080)
    nats = [await nat_address(driver, sid) for sid in sids]

    out = lab.connect_many([(h.namespace, INTERNET_HOST, 8080) for h in hosts])
    across = lab.connect_many(
        [(h.namespace, hosts[(n + 1) % 20].address, 8080) for n, h in enumerate(hosts)]
        + [(h.namespace, nats[(n + 1) % 20], 8080) for n, h in enumerate(hosts)],
        timeout=0.5,
    )

    assert out == nats  # each through its own NAT
    assert all(answer.startswith("failed") for answer in across), across
    assert len(set(nats)) == 20
    assert plan(desired(1, *(vcpe(sid) for sid in sids)), await driver.observe()) == []


def test_the_lab_cleans_up_after_itself() -> None:
    lab = Lab()
    lab.start()
    lab.close()
    assert lab.namespaces() == []
    assert subprocess.run(["true"], check=False).returncode == 0
