"""Reconciling: `plan` (pure) compares desired with observed state; `apply_plan` runs the changes.

The controller calls both on every pass; a driver (`site.drivers`) observes and applies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from edgewise.model.desired import DesiredState, ServiceSpec, VnfFunction, VnfSpec
from edgewise.site.sdwan.sections import (
    ObservedWan,
    WanFault,
    links_digest,
    overlays_digest,
    steering_digest,
    tenant_scoped,
)


class ChangeOp(StrEnum):
    """What a driver does; `plan` alone picks it, and a driver never does another instead.

    DELETE_VNF and CREATE_VNF remove and build a VNF whole (a rebuild is both); in place,
    UPDATE_VNF_CONFIG loads a VNF's config again (ruleset, routes, token buckets, program),
    RESTART_VNF starts its program again, UPDATE_CHAIN wires the service's links and routes.
    Site-level: UPDATE_LINKS builds the WAN links (tables, rules, routes, NAT) of the desired
    state (none: removes them), UPDATE_STEERING loads the steering table in one transaction,
    UPDATE_OVERLAYS builds the overlays' WireGuard devices (none: removes them).
    """

    DELETE_SERVICE = "delete-service"
    CREATE_SERVICE = "create-service"
    DELETE_VNF = "delete-vnf"
    CREATE_VNF = "create-vnf"
    UPDATE_VNF_CONFIG = "update-vnf-config"
    RESTART_VNF = "restart-vnf"
    UPDATE_CHAIN = "update-chain"
    UPDATE_LINKS = "update-links"
    UPDATE_STEERING = "update-steering"
    UPDATE_OVERLAYS = "update-overlays"


SITE = "@site"  # the `service_id` of site-level changes (no service id starts with @)
SITE_OPS = frozenset({ChangeOp.UPDATE_LINKS, ChangeOp.UPDATE_STEERING, ChangeOp.UPDATE_OVERLAYS})


class ChangeReason(StrEnum):
    """Why a change is planned: the controller reports repairs apart from rollouts."""

    MISSING = "missing"
    UNWANTED = "unwanted"
    UNHEALTHY = "unhealthy"
    FUNCTION_CHANGED = "function-changed"
    CONFIG_CHANGED = "config-changed"
    CHAIN_CHANGED = "chain-changed"
    SERVICES_CHANGED = "services-changed"  # tenant-scoped steering follows the services' slots


class VnfFault(StrEnum):
    """What a driver found broken in a VNF that is there; each is mended in place."""

    RULESET_MISSING = "ruleset-missing"  # its ruleset is gone (or another function's)
    SHAPING_MISSING = "shaping-missing"  # a rate limiter's token buckets are off its legs
    LINK_DOWN = "link-down"  # a leg of it is down, or without carrier
    PROCESS_DOWN = "process-down"  # its program ended, and its restart policy wants it running


@dataclass(frozen=True)
class ObservedVnf:
    name: str
    function: VnfFunction
    config_digest: str  # of the config its ruleset was loaded from; "" when that is unknown
    faults: frozenset[VnfFault] = frozenset()
    # What the data plane counted (per rule, class, queue...): reported, never planned on.
    counters: Mapping[str, Any] = field(default_factory=dict, compare=False)
    # Coming up (a program not ready yet, within its grace): not a fault; look again soon
    # and report when it settles. Never planned on.
    settling: bool = field(default=False, compare=False)

    @property
    def healthy(self) -> bool:
        return not self.faults


@dataclass(frozen=True)
class ObservedService:
    id: str
    vnfs: tuple[ObservedVnf, ...] = ()
    chain: tuple[str, ...] = ()

    def vnf(self, name: str) -> ObservedVnf | None:
        return next((v for v in self.vnfs if v.name == name), None)


@dataclass(frozen=True)
class ObservedState:
    """What a driver sees on the data plane now (`wan`: the WAN namespace's links and steering;
    a driver without them reports the empty ObservedWan)."""

    services: tuple[ObservedService, ...] = ()
    wan: ObservedWan = field(default_factory=ObservedWan)

    def service(self, service_id: str) -> ObservedService | None:
        return next((s for s in self.services if s.id == service_id), None)


@dataclass(frozen=True)
class Change:
    """One step towards the desired state; `desired`/`observed` are the VNF's (or the service's;
    for a site-level change, `service_id` is SITE and they are the whole state and the WAN's)."""

    op: ChangeOp
    service_id: str
    vnf_name: str | None
    reason: ChangeReason
    desired: ServiceSpec | VnfSpec | DesiredState | None = None
    observed: ObservedService | ObservedVnf | ObservedWan | None = None

    @property
    def target(self) -> str:
        return self.service_id if self.vnf_name is None else f"{self.service_id}/{self.vnf_name}"

    def __str__(self) -> str:
        return f"{self.op.value} {self.target}"


@dataclass(frozen=True)
class ChangeResult:
    """What applying one change did: a value, never an exception."""

    change: Change
    changed: bool
    failed: bool = False
    error: str | None = None
    skipped: bool = False  # not tried: a change it depends on failed (`failed` is set too)


def plan(desired: DesiredState, observed: ObservedState) -> list[Change]:
    """The changes that turn `observed` into `desired`, in the order to apply them.

    Unwanted services go first; then each desired service in document order: its deletes,
    then its creates, config updates and restarts in chain order, then its chain wiring.
    How each VNF is mended is decided here and only here (see `plan_vnf`): a driver applies
    exactly the changes it is given. The site's links come first (steering refers to them),
    its steering last (see `plan_site`).
    """
    wanted = {s.id for s in desired.services}
    changes = [
        Change(ChangeOp.DELETE_SERVICE, s.id, None, ChangeReason.UNWANTED, observed=s)
        for s in sorted(observed.services, key=lambda s: s.id)
        if s.id not in wanted
    ]
    for service in desired.services:
        changes.extend(plan_service(service, observed.service(service.id)))
    links, steering = plan_site(desired, observed.wan, changes)
    return links + plan_overlays(desired, observed.wan, links) + changes + steering


def plan_site(
    desired: DesiredState, seen: ObservedWan, service_changes: Sequence[Change]
) -> tuple[list[Change], list[Change]]:
    """The site-level changes (pure): (links, steering), compared by section digest.

    | observed                                   | change           | reason           |
    |--------------------------------------------|------------------|------------------|
    | nothing, links desired                     | update-links     | missing          |
    | links, none desired                        | update-links     | unwanted         |
    | another links digest                       | update-links     | config-changed   |
    | links broken (a table, rule, route gone)   | update-links     | unhealthy        |
    | links planned (their marks, tables may move)| update-steering | as the links     |
    | nothing / another / broken steering        | update-steering  | as for links     |
    | tenant policies, a service made or rewired| update-steering  | services-changed |
    """
    links: list[Change] = []
    want_links, want_steering = links_digest(desired), steering_digest(desired)
    reason = _section_reason(want_links, seen.links_digest, WanFault.LINKS_BROKEN in seen.faults)
    if reason is not None:
        links.append(Change(ChangeOp.UPDATE_LINKS, SITE, None, reason, desired, seen))
    broken = seen.faults & {WanFault.STEERING_BROKEN, WanFault.DPI_BROKEN}
    reason = _section_reason(want_steering, seen.steering_digest, bool(broken))
    if reason is None and links:
        reason = links[0].reason
    moved = (ChangeOp.CREATE_SERVICE, ChangeOp.DELETE_SERVICE, ChangeOp.UPDATE_CHAIN)
    if reason is None and tenant_scoped(desired) and any(c.op in moved for c in service_changes):
        reason = ChangeReason.SERVICES_CHANGED
    if reason is None:
        return links, []
    return links, [Change(ChangeOp.UPDATE_STEERING, SITE, None, reason, desired, seen)]


def plan_overlays(
    desired: DesiredState, seen: ObservedWan, links: Sequence[Change]
) -> list[Change]:
    """UPDATE_OVERLAYS (pure), compared by section digest as the links are, and planned too
    whenever the links are (the links' pass resets what the tunnels need of them)."""
    want = overlays_digest(desired)
    reason = _section_reason(want, seen.overlays_digest, WanFault.OVERLAYS_BROKEN in seen.faults)
    if reason is None and links and want:
        reason = links[0].reason
    if reason is None:
        return []
    return [Change(ChangeOp.UPDATE_OVERLAYS, SITE, None, reason, desired, seen)]


def _section_reason(wanted: str, seen: str, broken: bool) -> ChangeReason | None:
    if wanted == seen:
        return ChangeReason.UNHEALTHY if broken and wanted else None
    if not seen:
        return ChangeReason.MISSING
    return ChangeReason.UNWANTED if not wanted else ChangeReason.CONFIG_CHANGED


def plan_service(service: ServiceSpec, observed: ObservedService | None) -> list[Change]:
    """The changes of one service (pure)."""
    sid = service.id
    if observed is None:
        head = [Change(ChangeOp.CREATE_SERVICE, sid, None, ChangeReason.MISSING, service)]
        creates = [
            Change(ChangeOp.CREATE_VNF, sid, v.name, ChangeReason.MISSING, v)
            for v in service.vnfs_in_chain_order()
        ]
        chain = [Change(ChangeOp.UPDATE_CHAIN, sid, None, ChangeReason.MISSING, service)]
        return head + creates + (chain if service.chain else [])
    deletes = [
        Change(ChangeOp.DELETE_VNF, sid, v.name, ChangeReason.UNWANTED, observed=v)
        for v in sorted(observed.vnfs, key=lambda v: v.name)
        if service.vnf(v.name) is None
    ]
    builds: list[Change] = []
    for vnf in service.vnfs_in_chain_order():
        seen = observed.vnf(vnf.name)
        for change in plan_vnf(sid, vnf, seen):
            (deletes if change.op is ChangeOp.DELETE_VNF else builds).append(change)
    rebuilt = any(c.op is ChangeOp.CREATE_VNF and c.vnf_name in service.chain for c in builds)
    if observed.chain != service.chain or (rebuilt and service.chain):
        builds.append(
            Change(ChangeOp.UPDATE_CHAIN, sid, None, ChangeReason.CHAIN_CHANGED, service, observed)
        )
    elif service.chain and any(
        VnfFault.LINK_DOWN in v.faults for v in observed.vnfs if service.vnf(v.name) is not None
    ):
        builds.append(
            Change(ChangeOp.UPDATE_CHAIN, sid, None, ChangeReason.UNHEALTHY, service, observed)
        )
    return deletes + builds


def plan_vnf(sid: str, vnf: VnfSpec, seen: ObservedVnf | None) -> list[Change]:
    """How one desired VNF is brought to `vnf` (pure); a leg down is the chain's to mend.

    | observed                                  | changes                    | reason           |
    |-------------------------------------------|----------------------------|------------------|
    | absent                                    | create                     | missing          |
    | another function                          | delete, create (rebuild)   | function-changed |
    | its ruleset gone                          | update-vnf-config          | unhealthy        |
    | another config                            | update-vnf-config          | config-changed   |
    | its token buckets gone                    | update-vnf-config          | unhealthy        |
    | whole, right config, only its program down| restart-vnf                | unhealthy        |
    | whole, right config, program running      | nothing (adopted)          |                  |
    """
    name = vnf.name
    if seen is None:
        return [Change(ChangeOp.CREATE_VNF, sid, name, ChangeReason.MISSING, vnf)]
    if seen.function != vnf.function:
        reason = ChangeReason.FUNCTION_CHANGED
        return [
            Change(ChangeOp.DELETE_VNF, sid, name, reason, vnf, seen),
            Change(ChangeOp.CREATE_VNF, sid, name, reason, vnf, seen),
        ]
    if VnfFault.RULESET_MISSING in seen.faults:
        step = (ChangeOp.UPDATE_VNF_CONFIG, ChangeReason.UNHEALTHY)
    elif seen.config_digest != vnf.config_digest():
        step = (ChangeOp.UPDATE_VNF_CONFIG, ChangeReason.CONFIG_CHANGED)
    elif VnfFault.SHAPING_MISSING in seen.faults:
        step = (ChangeOp.UPDATE_VNF_CONFIG, ChangeReason.UNHEALTHY)
    elif VnfFault.PROCESS_DOWN in seen.faults:
        step = (ChangeOp.RESTART_VNF, ChangeReason.UNHEALTHY)
    else:
        return []
    return [Change(step[0], sid, name, step[1], vnf, seen)]


class ChangeApplier(Protocol):
    """The part of a driver the executor needs (see `site.drivers.base.Driver`)."""

    async def apply(self, change: Change) -> ChangeResult: ...


async def apply_plan(
    driver: ChangeApplier, changes: Sequence[Change], *, concurrency: int = 4
) -> list[ChangeResult]:
    """Applies `changes`; returns one result per change, in the order of `changes`.

    The site's links go first, its overlays next; then unwanted services are deleted; then
    services are applied side by side (at most `concurrency` at once), each in order; the
    site's steering last. A failed step skips the later steps that depend on it (same VNF,
    the whole service after a failed create-service, the chain after any failure, steering
    after failed links); other VNFs and other services carry on.
    """
    results: dict[int, ChangeResult] = {}
    site = [(i, c) for i, c in enumerate(changes) if c.service_id == SITE]
    first = [(i, c) for i, c in site if c.op in (ChangeOp.UPDATE_LINKS, ChangeOp.UPDATE_OVERLAYS)]
    for index, result in await apply_service(driver, [c for _, c in first]):
        results[first[index][0]] = result
    gate = asyncio.Semaphore(concurrency)

    async def run(group: list[tuple[int, Change]]) -> None:
        async with gate:
            for index, result in await apply_service(driver, [c for _, c in group]):
                results[group[index][0]] = result

    deletes = [(i, c) for i, c in enumerate(changes) if c.op is ChangeOp.DELETE_SERVICE]
    await asyncio.gather(*(run([item]) for item in deletes))
    groups: dict[str, list[tuple[int, Change]]] = {}
    for i, c in enumerate(changes):
        if c.op is not ChangeOp.DELETE_SERVICE and c.service_id != SITE:
            groups.setdefault(c.service_id, []).append((i, c))
    await asyncio.gather(*(run(group) for group in groups.values()))
    links_failed = any(results[i].failed for i, c in site if c.op is ChangeOp.UPDATE_LINKS)
    for i, change in site:
        if change.op is ChangeOp.UPDATE_STEERING:
            results[i] = (
                ChangeResult(
                    change,
                    changed=False,
                    failed=True,
                    error=f"skipped: update-links {SITE} failed",
                    skipped=True,
                )
                if links_failed
                else await safely_apply(driver, change)
            )
    return [results[i] for i in range(len(changes))]


async def apply_service(
    driver: ChangeApplier, changes: Iterable[Change]
) -> list[tuple[int, ChangeResult]]:
    """Applies one service's changes in order, skipping those that depend on a failed one."""
    done: list[tuple[int, ChangeResult]] = []
    failed: list[Change] = []
    for index, change in enumerate(changes):
        blocker = next((f for f in failed if depends_on(change, f)), None)
        if blocker is not None:
            error = f"skipped: {blocker} failed"
            result = ChangeResult(change, changed=False, failed=True, error=error, skipped=True)
        else:
            result = await safely_apply(driver, change)
        if result.failed:
            failed.append(change)
        done.append((index, result))
    return done


def depends_on(change: Change, failed: Change) -> bool:
    if failed.op is ChangeOp.CREATE_SERVICE or change.op is ChangeOp.UPDATE_CHAIN:
        return True
    return change.vnf_name is not None and change.vnf_name == failed.vnf_name


async def safely_apply(driver: ChangeApplier, change: Change) -> ChangeResult:
    """A driver must not raise for data-plane failures; if one does, it is still a result."""
    try:
        return await driver.apply(change)
    except Exception as exc:  # noqa: BLE001 - one broken change must not hide the rest
        return ChangeResult(
            change, changed=False, failed=True, error=f"{type(exc).__name__}: {exc}"
        )
