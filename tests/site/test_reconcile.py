"""`plan` by tables of cases, and the executor's handling of failures."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from edgewise.model.desired import DesiredState, ServiceSpec, VnfFunction, VnfSpec
from edgewise.model.functions import FirewallConfig, NatConfig, RouterConfig
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.reconcile import (
    Change,
    ChangeOp,
    ChangeResult,
    ObservedService,
    ObservedState,
    ObservedVnf,
    apply_plan,
    plan,
)

FW = VnfSpec("fw", VnfFunction.FIREWALL, FirewallConfig("drop"))
NAT = VnfSpec("nat", VnfFunction.NAT, NatConfig("masquerade"))
RTR = VnfSpec("rtr", VnfFunction.ROUTER, RouterConfig())


def service(sid: str, *vnfs: VnfSpec, chain: Sequence[str] | None = None) -> ServiceSpec:
    names = tuple(v.name for v in vnfs) if chain is None else tuple(chain)
    return ServiceSpec(sid, sid, "t1", vnfs, names)


def seen(spec: VnfSpec, *, healthy: bool = True, digest: str | None = None) -> ObservedVnf:
    return ObservedVnf(spec.name, spec.function, digest or spec.config_digest(), healthy)


def running(sid: str, *vnfs: ObservedVnf, chain: Sequence[str] | None = None) -> ObservedService:
    return ObservedService(
        sid, vnfs, tuple(v.name for v in vnfs) if chain is None else tuple(chain)
    )


def steps(changes: list[Change]) -> list[str]:
    return [str(c) for c in changes]


CASES = [
    pytest.param(DesiredState(1), ObservedState(), [], id="nothing-to-do"),
    pytest.param(
        DesiredState(1, (service("s1", NAT, FW, chain=["fw", "nat"]),)),
        ObservedState(),
        ["create-service s1", "create-vnf s1/fw", "create-vnf s1/nat", "update-chain s1"],
        id="new-service-in-chain-order",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, NAT),)),
        ObservedState((running("s1", seen(FW), seen(NAT)),)),
        [],
        id="converged",
    ),
    pytest.param(
        DesiredState(1),
        ObservedState((running("s2"), running("s1", seen(FW)))),
        ["delete-service s1", "delete-service s2"],
        id="unwanted-services-sorted",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, NAT),)),
        ObservedState((running("s1", seen(FW), seen(NAT, digest="old")),)),
        ["update-vnf-config s1/nat"],
        id="config-only-is-in-place",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, VnfSpec("nat", VnfFunction.ROUTER, RouterConfig())),)),
        ObservedState((running("s1", seen(FW), seen(NAT)),)),
        ["delete-vnf s1/nat", "create-vnf s1/nat", "update-chain s1"],
        id="function-change-is-delete-create",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, NAT),)),
        ObservedState((running("s1", seen(FW, healthy=False), seen(NAT)),)),
        ["delete-vnf s1/fw", "create-vnf s1/fw", "update-chain s1"],
        id="unhealthy-is-rebuilt",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, NAT),)),
        ObservedState((running("s1", seen(NAT), seen(RTR), chain=["nat", "rtr"]),)),
        ["delete-vnf s1/rtr", "create-vnf s1/fw", "update-chain s1"],
        id="deletes-before-creates",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, NAT, chain=["nat", "fw"]),)),
        ObservedState((running("s1", seen(FW), seen(NAT)),)),
        ["update-chain s1"],
        id="chain-reordered",
    ),
    pytest.param(
        DesiredState(1, (service("s2", RTR), service("s1", FW))),
        ObservedState((running("s3"),)),
        [
            "delete-service s3",
            "create-service s2",
            "create-vnf s2/rtr",
            "update-chain s2",
            "create-service s1",
            "create-vnf s1/fw",
            "update-chain s1",
        ],
        id="services-in-document-order-after-deletes",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, RTR, chain=["fw"]),)),
        ObservedState(),
        ["create-service s1", "create-vnf s1/fw", "create-vnf s1/rtr", "update-chain s1"],
        id="vnfs-outside-the-chain-come-last",
    ),
]


@pytest.mark.parametrize(("desired", "observed", "expected"), CASES)
def test_plan(desired: DesiredState, observed: ObservedState, expected: list[str]) -> None:
    changes = plan(desired, observed)
    assert steps(changes) == expected
    assert plan(desired, observed) == changes  # deterministic


def test_a_config_change_carries_both_sides() -> None:
    observed_nat = seen(NAT, digest="old")
    [change] = plan(
        DesiredState(1, (service("s1", NAT),)), ObservedState((running("s1", observed_nat),))
    )
    assert (change.op, change.desired, change.observed) == (
        ChangeOp.UPDATE_VNF_CONFIG, NAT, observed_nat,
    )  # fmt: skip


class FailingDriver(SimDriver):
    """Fails the changes it is told to fail; applies the rest like the simulator."""

    def __init__(self, *failing: str) -> None:
        super().__init__()
        self.failing = set(failing)
        self.calls: list[str] = []

    async def apply(self, change: Change) -> ChangeResult:
        self.calls.append(str(change))
        if str(change) in self.failing:
            return ChangeResult(change, changed=False, failed=True, error="boom")
        if str(change) == "create-vnf s2/rtr":
            raise RuntimeError("driver bug")
        return await super().apply(change)


@pytest.mark.anyio
async def test_one_broken_vnf_does_not_hide_the_rest() -> None:
    desired = DesiredState(1, (service("s1", FW, NAT, RTR), service("s2", RTR)))
    driver = FailingDriver("create-vnf s1/fw")
    results = await apply_plan(driver, plan(desired, ObservedState()))
    outcome = {str(r.change): (r.changed, r.failed, r.error) for r in results}
    assert outcome == {
        "create-service s1": (True, False, None),
        "create-vnf s1/fw": (False, True, "boom"),
        "create-vnf s1/nat": (True, False, None),
        "create-vnf s1/rtr": (True, False, None),
        "update-chain s1": (False, True, "skipped: create-vnf s1/fw failed"),
        "create-service s2": (True, False, None),
        "create-vnf s2/rtr": (False, True, "RuntimeError: driver bug"),
        "update-chain s2": (False, True, "skipped: create-vnf s2/rtr failed"),
    }
    assert [str(r.change) for r in results] == steps(plan(desired, ObservedState()))


@pytest.mark.anyio
async def test_a_failed_service_skips_all_its_steps() -> None:
    driver = FailingDriver("create-service s1")
    results = await apply_plan(driver, plan(DesiredState(1, (service("s1", FW),)), ObservedState()))
    assert [r.error for r in results] == [
        "boom", "skipped: create-service s1 failed", "skipped: create-service s1 failed",
    ]  # fmt: skip
    assert driver.calls == ["create-service s1"]


@pytest.mark.anyio
async def test_applying_a_plan_converges() -> None:
    desired = DesiredState(1, (service("s1", FW, NAT), service("s2", RTR)))
    driver = SimDriver()
    await apply_plan(driver, plan(desired, await driver.observe()))
    assert plan(desired, await driver.observe()) == []
