"""The policy table in a real kernel (root, a namespace): rules of every kind load, a second
evaluation rebuilds nothing, flagged sources (blocks) survive a restarted enforcer and a change
of the rules, a deleted table is built again at the next evaluation, and the table goes with
the rules."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.linux.kernel import Nftables
from edgewise.site.drivers.linux.linuxkernel import LinuxKernel
from edgewise.site.drivers.linux.rtpolicy import PolicyEnforcer
from edgewise.site.drivers.linux.rtpolicy_table import POLICY_TABLE, read_table, tag
from tests.site.drivers.conftest import SKIP
from tests.site.drivers.netlab import in_ns, ip

pytestmark = pytest.mark.anyio
LINKS = [{"name": "inet", "kind": "internet", "interface": "up0", "gateway": "192.0.2.1"}]
STEERING = {"classes": [{"name": "bulk", "protocol": "tcp", "ports": [873]}],
            "policies": [{"class": "bulk", "links": ["inet"]}]}  # fmt: skip
EVERY_KIND = [
    {"name": "scan", "when": {"kind": "new_flows", "flows_above": 20},
     "then": {"kind": "block", "for_s": 600}},
    {"name": "spam", "when": {"kind": "new_flows", "flows_above": 100},
     "then": {"kind": "rate_limit", "source": True, "rate": "1 Mbps"}},
    {"name": "tell", "when": {"kind": "new_flows", "flows_above": 1000}, "then": {"kind": "event"}},
    {"name": "cap", "when": {"kind": "class_rate", "class": "bulk", "rate_above": "1 Mbps"},
     "then": {"kind": "rate_limit", "class": "bulk", "rate": "1 Mbps"}},
    {"name": "away", "when": {"kind": "link_sla", "link": "inet"},
     "then": {"kind": "steer", "class": "bulk", "link": "inet"}},
    {"name": "fw", "when": {"kind": "vnf_unhealthy", "service": "s", "vnf": "fw"},
     "then": {"kind": "event"}},
]  # fmt: skip


def state(revision: int, rules: list[dict[str, Any]]) -> DesiredState:
    document = {"services": [], "links": LINKS, "steering": STEERING, "policy_rules": rules}
    return DesiredState.from_document(revision, document)


@pytest.fixture
def wan() -> Iterator[str]:
    if SKIP:
        pytest.skip(SKIP)
    name = f"rtp{secrets.token_hex(3)}"
    ip("netns", "add", name)
    try:
        yield name
    finally:
        ip("netns", "del", name, check=False)


@pytest.fixture
async def kernel() -> AsyncIterator[LinuxKernel]:
    made = LinuxKernel()
    try:
        yield made
    finally:
        made.close()


class Site:
    """An enforcer over the namespace's nftables, ticked in the kernel's worker."""

    def __init__(self, kernel: LinuxKernel, nft: Nftables) -> None:
        self.kernel, self.nft = kernel, nft
        self.enforcer = PolicyEnforcer()

    async def tick(self, desired: DesiredState) -> list[dict[str, Any]]:
        opened = lambda: contextlib.nullcontext(self.nft)  # noqa: E731
        return await self.kernel.run(lambda: self.enforcer.tick(opened, desired, None, None))

    async def listed(self) -> list[dict[str, Any]] | None:
        return await self.kernel.run(lambda: self.nft.list_table("ip", POLICY_TABLE))


async def site_in(kernel: LinuxKernel, wan: str) -> Site:
    return Site(kernel, await kernel.run(lambda: kernel.open_nftables(wan)))


async def test_every_kind_loads_and_blocks_outlive_restarts_and_rule_changes(
    wan: str, kernel: LinuxKernel
) -> None:
    site = await site_in(kernel, wan)
    assert await site.tick(state(1, EVERY_KIND)) == []
    assert await site.tick(state(1, EVERY_KIND)) == []
    assert site.enforcer.report.rebuilds == 1  # the second evaluation found it built
    listed = await site.listed()
    assert listed is not None
    assert sorted(read_table(listed).flagged) == sorted(tag(n) for n in ("scan", "spam", "tell"))

    in_ns(wan, "nft", "add", "element", "ip", POLICY_TABLE, f"o_{tag('scan')}",
          "{ 198.51.100.7 timeout 600s }")  # fmt: skip
    restarted = await site_in(kernel, wan)  # a new controller: no state but the kernel's
    told = await restarted.tick(state(1, EVERY_KIND))
    assert [(e["event"], e["rule"], e.get("source")) for e in told] == [
        ("policy-triggered", "scan", "198.51.100.7")
    ]
    assert restarted.enforcer.report.rebuilds == 0  # adopted as it was
    counted = restarted.enforcer.counters()["scan"]  # the status's wan.counters.policy
    assert (counted["active"], counted["matches"], counted["flagged"]) == (True, 1, 1)

    fewer = [{**EVERY_KIND[0], "when": {"kind": "new_flows", "flows_above": 40}}]
    await restarted.tick(state(2, fewer))
    listed = await restarted.listed()
    assert listed is not None
    view = read_table(listed)
    assert view.flagged == {tag("scan"): frozenset({"198.51.100.7"})}  # still blocked
    assert not any(name.startswith(("o_", "m_", "l_")) and tag("spam") in name
                   for name in view.present)  # fmt: skip

    in_ns(wan, "nft", "delete", "table", "ip", POLICY_TABLE)
    await restarted.tick(state(2, fewer))
    assert await restarted.listed() is not None  # built again at the next evaluation

    await restarted.tick(state(3, []))
    assert await restarted.listed() is None  # the rules went: so did the table
