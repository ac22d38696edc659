"""The simulated data plane: same seed, same failures; latency through an injected sleeper."""

from __future__ import annotations

import pytest

from edgewise.model.desired import DesiredState, ServiceSpec, VnfFunction, VnfSpec
from edgewise.model.functions import FirewallConfig, FirewallRule, NatConfig
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.reconcile import ChangeResult, VnfFault, apply_plan, plan

pytestmark = pytest.mark.anyio

DESIRED = DesiredState(
    1,
    tuple(
        ServiceSpec(
            f"s{n}", f"s{n}", "t",
            (
                VnfSpec("fw", VnfFunction.FIREWALL, FirewallConfig(rules=(FirewallRule(port=n + 1,
                        protocol="tcp"),))),
                VnfSpec("nat", VnfFunction.NAT, NatConfig()),
            ),
            ("fw", "nat"),
        )
        for n in range(20)
    ),
)  # fmt: skip


class FakeSleeper:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


async def run(seed: int, failure_rate: float = 0.3) -> tuple[list[ChangeResult], list[float]]:
    sleeper = FakeSleeper()
    driver = SimDriver(latency=0.01, failure_rate=failure_rate, seed=seed, sleep=sleeper)
    results = await apply_plan(driver, plan(DESIRED, await driver.observe()), concurrency=8)
    return results, sorted(sleeper.slept)


async def test_the_same_seed_fails_the_same_changes() -> None:
    first, slept = await run(seed=42)
    again, slept_again = await run(seed=42)
    other, _ = await run(seed=7)
    assert [r.failed for r in first] == [r.failed for r in again]
    assert slept == slept_again
    assert [r.failed for r in first] != [r.failed for r in other]
    assert 0 < sum(r.failed for r in first) < len(first)
    assert all(0.005 <= s <= 0.015 for s in slept)


async def test_drift_is_observed_and_repaired() -> None:
    driver = SimDriver()
    await apply_plan(driver, plan(DESIRED, await driver.observe()))
    driver.break_vnf("s1", "fw")
    driver.break_vnf("s4", "nat", VnfFault.RULESET_MISSING)
    driver.break_vnf("s5", "fw", VnfFault.LINK_DOWN)
    driver.remove_vnf("s2", "nat")
    driver.remove_service("s3")
    observed = await driver.observe()
    broken = observed.service("s1")
    assert broken is not None
    assert broken.vnf("fw") == broken.vnfs[0]
    assert not broken.vnfs[0].healthy
    assert observed.service("s3") is None
    repairs = [str(c) for c in plan(DESIRED, observed)]
    assert "restart-vnf s1/fw" in repairs  # in place: its program died
    assert "update-vnf-config s4/nat" in repairs
    assert "update-chain s5" in repairs
    assert not any(r.startswith("delete-") for r in repairs)
    assert "create-vnf s2/nat" in repairs
    assert "create-service s3" in repairs
    await apply_plan(driver, plan(DESIRED, observed))
    assert plan(DESIRED, await driver.observe()) == []


async def test_applying_twice_changes_nothing_the_second_time() -> None:
    driver = SimDriver()
    changes = plan(DESIRED, await driver.observe())
    await apply_plan(driver, changes)
    again = await apply_plan(driver, changes)
    assert not any(r.changed or r.failed for r in again)
    await driver.close()
    assert driver.closed


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="failure_rate"):
        SimDriver(failure_rate=1.5)
