"""The site-level part of `plan`: links and steering compared by digest, links before services,
steering after them; drift in the WAN namespace is planned like a VNF's."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.reconcile import (
    SITE,
    Change,
    ChangeOp,
    ChangeReason,
    ChangeResult,
    ObservedService,
    ObservedState,
    apply_plan,
    plan,
)
from edgewise.site.sdwan.sections import ObservedWan, WanFault, links_digest, steering_digest

pytestmark = pytest.mark.anyio

LINKS: list[dict[str, Any]] = [
    {"name": "mpls", "kind": "mpls", "interface": "wan0", "address": "198.51.100.2/30",
     "gateway": "198.51.100.1"},
    {"name": "inet", "kind": "internet", "interface": "wan1", "address": "203.0.113.2/24",
     "gateway": "203.0.113.1"},
]  # fmt: skip
STEERING: dict[str, Any] = {
    "classes": [{"name": "voice", "protocol": "udp", "ports": [5060]}],
    "policies": [{"class": "voice", "links": ["mpls", "inet"]}],
}
SERVICE: dict[str, Any] = {"id": "s1", "name": "s1", "tenant": "acme", "vnfs": [], "chain": []}


def site(links: list[dict[str, Any]] | None = LINKS, **steering: Any) -> DesiredState:
    document: dict[str, Any] = {"services": [SERVICE]}
    if links:
        document["links"] = links
        document["steering"] = {**STEERING, **steering}
    return DesiredState.from_document(1, document)


def built(state: DesiredState, *faults: WanFault) -> ObservedState:
    wan = ObservedWan(links_digest(state), steering_digest(state), frozenset(faults))
    return ObservedState((ObservedService("s1"),), wan)


def steps(changes: list[Change]) -> list[str]:
    return [f"{c.op.value} {c.target} {c.reason.value}" for c in changes]


OTHER = site(links=[LINKS[1], LINKS[0]])  # the same links, in another order
TENANT = site(policies=[{"class": "voice", "links": ["mpls"], "tenant": "acme"}])
CASES = [
    pytest.param(site(links=None), ObservedState((ObservedService("s1"),)), [], id="no-links"),
    pytest.param(
        site(),
        ObservedState((ObservedService("s1"),)),
        ["update-links @site missing", "update-steering @site missing"],
        id="links-first-then-steering",
    ),
    pytest.param(site(), built(site()), [], id="converged"),
    pytest.param(
        site(),
        built(OTHER),
        ["update-links @site config-changed", "update-steering @site config-changed"],
        id="links-changed-steering-follows",
    ),
    pytest.param(
        site(policies=[{"class": "voice", "links": ["inet"]}]),
        built(site()),
        ["update-steering @site config-changed"],
        id="steering-alone",
    ),
    pytest.param(
        site(),
        built(site(), WanFault.LINKS_BROKEN),
        ["update-links @site unhealthy", "update-steering @site unhealthy"],
        id="a-deleted-route-or-rule-is-mended",
    ),
    pytest.param(
        site(),
        built(site(), WanFault.STEERING_BROKEN),
        ["update-steering @site unhealthy"],
        id="a-flushed-steering-table-is-loaded-again",
    ),
    pytest.param(
        site(),
        built(site(), WanFault.DPI_BROKEN),
        ["update-steering @site unhealthy"],
        id="a-dead-dpi-classifier-due-for-restart-is-started-again",
    ),
    pytest.param(
        site(links=None),
        built(site()),
        ["update-links @site unwanted", "update-steering @site unwanted"],
        id="links-removed",
    ),
    pytest.param(
        site(links=None),
        built(site(links=None), WanFault.LINKS_BROKEN),
        [],
        id="nothing-wanted-nothing-to-mend",
    ),
    pytest.param(
        TENANT,
        ObservedState((), built(TENANT).wan),
        [
            "create-service s1 missing",
            "update-steering @site services-changed",
        ],
        id="tenant-steering-follows-a-new-service",
    ),
    pytest.param(
        site(),
        ObservedState((), built(site()).wan),
        ["create-service s1 missing"],
        id="site-wide-steering-ignores-services",
    ),
]


@pytest.mark.parametrize(("desired", "observed", "expected"), CASES)
def test_plan_site(desired: DesiredState, observed: ObservedState, expected: list[str]) -> None:
    assert steps(plan(desired, observed)) == expected


def test_the_digests_tell_sections_apart() -> None:
    assert links_digest(site(links=None)) == steering_digest(site(links=None)) == ""
    assert links_digest(site()) != links_digest(OTHER)
    assert steering_digest(site()) != steering_digest(TENANT)
    assert links_digest(site()) == links_digest(TENANT)
    moved = replace(TENANT, services=(replace(TENANT.services[0], tenant="other"),))
    assert steering_digest(moved) != steering_digest(TENANT)


def test_the_site_changes_wrap_the_service_changes() -> None:
    observed = ObservedState((ObservedService("gone"),))
    ops = [(c.op, c.service_id) for c in plan(site(), observed)]
    assert ops == [
        (ChangeOp.UPDATE_LINKS, SITE),
        (ChangeOp.DELETE_SERVICE, "gone"),
        (ChangeOp.CREATE_SERVICE, "s1"),
        (ChangeOp.UPDATE_STEERING, SITE),
    ]


class Recorder:
    """Applies nothing; fails the ops it is told to, and records the order of the calls."""

    def __init__(self, failing: set[ChangeOp]) -> None:
        self.failing = failing
        self.calls: list[str] = []

    async def apply(self, change: Change) -> ChangeResult:
        self.calls.append(str(change))
        failed = change.op in self.failing
        return ChangeResult(change, changed=not failed, failed=failed)


async def test_links_are_applied_before_services_and_steering_after() -> None:
    recorder = Recorder(set())
    changes = plan(site(), ObservedState((ObservedService("gone"),)))
    results = await apply_plan(recorder, changes)
    assert recorder.calls == [
        "update-links @site",
        "delete-service gone",
        "create-service s1",
        "update-steering @site",
    ]
    assert [r.change for r in results] == changes


async def test_failed_links_skip_the_steering_not_the_services() -> None:
    recorder = Recorder({ChangeOp.UPDATE_LINKS})
    results = await apply_plan(recorder, plan(site(), ObservedState()))
    by_op = {r.change.op: r for r in results}
    assert by_op[ChangeOp.CREATE_SERVICE].changed
    skipped = by_op[ChangeOp.UPDATE_STEERING]
    assert skipped.skipped
    assert skipped.failed
    assert skipped.error == "skipped: update-links @site failed"
    assert "update-steering @site" not in recorder.calls


async def test_the_sim_driver_builds_and_heals_the_wan() -> None:
    driver = SimDriver()
    state = site()
    await apply_plan(driver, plan(state, await driver.observe()))
    assert plan(state, await driver.observe()) == []
    driver.break_wan(WanFault.STEERING_BROKEN)
    repair = plan(state, await driver.observe())
    assert [(c.op, c.reason) for c in repair] == [
        (ChangeOp.UPDATE_STEERING, ChangeReason.UNHEALTHY)
    ]
    assert all(not r.failed for r in await apply_plan(driver, repair))
    assert plan(state, await driver.observe()) == []
    await apply_plan(driver, plan(site(links=None), await driver.observe()))
    assert (await driver.observe()).wan == ObservedWan()
