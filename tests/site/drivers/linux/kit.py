"""What the fast linux-driver tests share: documents, one reconcile pass, a look into the kernel."""

from __future__ import annotations

from typing import Any

from edgewise.model.desired import DesiredState, VnfSpec
from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.fakekernel import FakeKernel
from edgewise.site.drivers.linux.rulesets import read_marker
from edgewise.site.reconcile import ChangeOp, ChangeReason, ChangeResult, apply_plan, plan

Step = tuple[ChangeOp, str | None, ChangeReason]


def chain_of(sid: str, *vnfs: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": sid, "name": sid, "tenant": "t1",
        "vnfs": [{"name": n, "function": f, "config": c} for n, f, c in vnfs],
        "chain": [n for n, _, _ in vnfs],
    }  # fmt: skip


def spec(state: DesiredState, sid: str, name: str) -> VnfSpec:
    service = next(s for s in state.services if s.id == sid)
    found = service.vnf(name)
    assert found is not None
    return found


async def reconcile(driver: LinuxDriver, state: DesiredState) -> list[ChangeResult]:
    """One pass, as the controller runs it: observe, plan, apply."""
    return await apply_plan(driver, plan(state, await driver.observe()))


def steps(results: list[ChangeResult]) -> list[Step]:
    return [(r.change.op, r.change.vnf_name, r.change.reason) for r in results]


async def namespaces(driver: LinuxDriver, sid: str) -> dict[str, str]:
    """The namespace of each VNF of the service, by VNF name."""
    service = (await driver.view(sid)).services[sid]
    return {name: vnf.namespace for name, vnf in service.vnfs.items()}


def inodes(kernel: FakeKernel) -> dict[str, int]:
    return {name: space.inode for name, space in kernel.spaces.items()}


def marker(kernel: FakeKernel, namespace: str) -> tuple[str, str] | None:
    """(function, config digest) of the ruleset loaded in `namespace`."""
    return read_marker(kernel.table(namespace) or [])


def legs(kernel: FakeKernel, namespace: str) -> list[tuple[int, bool]]:
    """(group, up with carrier) of the site's links in `namespace`, by group."""
    space = kernel.space(namespace)
    return sorted(
        (link.group, space.carrier(link)) for link in space.links.values() if link.kind == "veth"
    )
