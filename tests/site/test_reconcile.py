"""`plan` by tables of cases, and the executor's handling of failures."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from edgewise.model.desired import DesiredState, ServiceSpec, VnfFunction, VnfSpec
from edgewise.model.functions import (
    FirewallConfig,
    NatConfig,
    ProcessConfig,
    RateLimiterConfig,
    RouterConfig,
)
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.reconcile import (
    Change,
    ChangeOp,
    ChangeReason,
    ChangeResult,
    ObservedService,
    ObservedState,
    ObservedVnf,
    VnfFault,
    apply_plan,
    plan,
)

FW = VnfSpec("fw", VnfFunction.FIREWALL, FirewallConfig("drop"))
NAT = VnfSpec("nat", VnfFunction.NAT, NatConfig("masquerade"))
RTR = VnfSpec("rtr", VnfFunction.ROUTER, RouterConfig())
APP = VnfSpec("app", VnfFunction.PROCESS, ProcessConfig("sleep", ("60",)))
RL = VnfSpec("rl", VnfFunction.RATE_LIMITER, RateLimiterConfig(egress_bps=10_000_000))
RULESET, LINK, SHAPING, PROCESS = (
    VnfFault.RULESET_MISSING, VnfFault.LINK_DOWN, VnfFault.SHAPING_MISSING, VnfFault.PROCESS_DOWN
)  # fmt: skip


def service(sid: str, *vnfs: VnfSpec, chain: Sequence[str] | None = None) -> ServiceSpec:
    names = tuple(v.name for v in vnfs) if chain is None else tuple(chain)
    return ServiceSpec(sid, sid, "t1", vnfs, names)


def seen(spec: VnfSpec, *faults: VnfFault, digest: str | None = None) -> ObservedVnf:
    """`spec` as a driver would report it: its ruleset gone leaves no digest."""
    if digest is None:
        digest = "" if RULESET in faults else spec.config_digest()
    return ObservedVnf(spec.name, spec.function, digest, frozenset(faults))


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
        DesiredState(1, (service("s1", FW, APP, NAT),)),
        ObservedState((running("s1", seen(FW), seen(APP, PROCESS), seen(NAT)),)),
        ["restart-vnf s1/app"],
        id="only-the-program-down-is-restarted-in-place",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, NAT),)),
        ObservedState((running("s1", seen(FW), seen(NAT, RULESET)),)),
        ["update-vnf-config s1/nat"],
        id="a-flushed-ruleset-is-loaded-again-in-place",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, RL),)),
        ObservedState((running("s1", seen(FW), seen(RL, SHAPING)),)),
        ["update-vnf-config s1/rl"],
        id="lost-token-buckets-are-set-again-in-place",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, NAT),)),
        ObservedState((running("s1", seen(FW, LINK), seen(NAT, LINK)),)),
        ["update-chain s1"],
        id="a-link-down-is-wired-again",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, APP, NAT),)),
        ObservedState((running("s1", seen(FW), seen(APP, PROCESS, digest="old"), seen(NAT)),)),
        ["update-vnf-config s1/app"],
        id="a-config-change-restarts-a-dead-program-too",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, APP, NAT),)),
        ObservedState((running("s1", seen(FW), seen(APP, PROCESS, RULESET), seen(NAT)),)),
        ["update-vnf-config s1/app"],
        id="a-ruleset-gone-is-reloaded-with-the-program",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, APP, NAT),)),
        ObservedState((running("s1", seen(FW), seen(APP, PROCESS, LINK), seen(NAT, LINK)),)),
        ["restart-vnf s1/app", "update-chain s1"],
        id="each-fault-its-own-repair",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, VnfSpec("app", VnfFunction.NAT, NatConfig())),)),
        ObservedState((running("s1", seen(FW), seen(APP, PROCESS)),)),
        ["delete-vnf s1/app", "create-vnf s1/app", "update-chain s1"],
        id="another-function-is-rebuilt-whatever-its-faults",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, NAT),)),
        ObservedState((running("s1", seen(FW), chain=["fw"]),)),
        ["create-vnf s1/nat", "update-chain s1"],
        id="a-deleted-namespace-is-built-and-wired",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, NAT, chain=["fw"]),)),
        ObservedState((running("s1", seen(FW), seen(NAT, LINK), chain=["fw"]),)),
        ["update-chain s1"],
        id="a-link-down-outside-the-chain-is-wired-away",
    ),
    pytest.param(
        DesiredState(1, (service("s1", FW, NAT),)),
        ObservedState(
            (running("s1", seen(FW), seen(NAT), seen(APP, PROCESS), chain=["fw", "nat"]),)
        ),
        ["delete-vnf s1/app"],
        id="an-unwanted-broken-vnf-is-only-deleted",
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


REASONS = [
    pytest.param(seen(APP, PROCESS), (ChangeOp.RESTART_VNF, ChangeReason.UNHEALTHY), id="restart"),
    pytest.param(
        seen(APP, RULESET), (ChangeOp.UPDATE_VNF_CONFIG, ChangeReason.UNHEALTHY), id="ruleset"
    ),
    pytest.param(
        seen(APP, digest="old"), (ChangeOp.UPDATE_VNF_CONFIG, ChangeReason.CONFIG_CHANGED),
        id="config",
    ),
    pytest.param(None, (ChangeOp.CREATE_VNF, ChangeReason.MISSING), id="missing"),
]  # fmt: skip


@pytest.mark.parametrize(("observed", "first"), REASONS)
def test_each_repair_says_why(
    observed: ObservedVnf | None, first: tuple[ChangeOp, ChangeReason]
) -> None:
    vnfs = (observed,) if observed is not None else ()
    changes = plan(DesiredState(1, (service("s1", APP),)), ObservedState((running("s1", *vnfs),)))
    assert (changes[0].op, changes[0].reason) == first
    assert changes[0].observed == observed


def test_a_healthy_vnf_reports_no_faults() -> None:
    assert seen(FW).healthy
    assert not seen(FW, LINK).healthy


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
