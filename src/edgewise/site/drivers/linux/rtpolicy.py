"""Real-time policy in the WAN namespace (worker thread): every tick, the table `ip ew_policy`
made to match the desired rules (built anew when the rules or the links change, removed when
the rules go, rebuilt when found flushed), read back as telemetry with the links' health and
the VNFs last observed, evaluated (site.rtpolicy.evaluate), and the evaluation's actions
applied idempotently: the `limit` chain to the active class limits, steering's class overrides
to the active steer rules. Per-source actions (block, limit the source) the kernel applies
itself (rtpolicy_table.py), so they hold while this process is down.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from edgewise.model.desired import DesiredState, canonical_json
from edgewise.model.fields import write
from edgewise.model.rtpolicy import PolicyRule
from edgewise.site.drivers.linux.kernel import Nftables
from edgewise.site.drivers.linux.rtpolicy_table import (
    POLICY_TABLE,
    PolicyView,
    classes_used,
    limits_batch,
    read_table,
    remove_batch,
    table_batch,
    tag,
)
from edgewise.site.drivers.linux.wanplan import FAMILY
from edgewise.site.reconcile import ObservedState
from edgewise.site.rtpolicy.evaluate import (
    Enforcement,
    Event,
    RuleState,
    Telemetry,
    evaluate,
)
from edgewise.site.sdwan.health import LinkHealth


class Steers(Protocol):
    """What the enforcer needs of steering (wansteer.WanSteerer): the links' health, and the
    classes' overrides (as set now: a steerer made anew has none)."""

    overrides: dict[str, str]

    def health(self) -> dict[str, LinkHealth]: ...

    def override(self, classes: Mapping[str, str]) -> bool: ...


def policy_digest(desired: DesiredState) -> str:
    """What the table is built from: the rules, the WAN interfaces and the classes they use."""
    rules = desired.policy_rules
    used = set(classes_used(rules))
    classes = [write(c) for c in desired.steering.classes if c.name in used]
    value = [[write(r) for r in rules], sorted(link.interface for link in desired.links), classes]
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


@dataclass
class PolicyReport:
    """Figures of the enforcer: tables built, how long the last evaluation took, the rules
    acting now."""

    rebuilds: int = 0
    last_tick_us: float | None = None
    active: list[str] = field(default_factory=list)


class PolicyEnforcer:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.states: dict[str, RuleState] = {}
        self.enforced = Enforcement()
        self.report = PolicyReport()
        self.matches: dict[str, int] = {}  # per rule: times it triggered (each source counts)
        self.dropped: dict[str, int] = {}  # per rule: packets its guard dropped (the kernel's)
        self._absent = False  # no rules, and no table seen since

    def tick(
        self,
        nft: Callable[[], AbstractContextManager[Nftables]],
        desired: DesiredState,
        observed: ObservedState | None,
        steerer: Steers | None,
    ) -> list[Event]:
        """One evaluation (`nft`: the WAN namespace's); returns its events (for the outbox)."""
        with nft() as context:
            return self._tick(context, desired, observed, steerer)

    def _tick(
        self,
        nft: Nftables,
        desired: DesiredState,
        observed: ObservedState | None,
        steerer: Steers | None,
    ) -> list[Event]:
        started = time.perf_counter()
        rules = desired.policy_rules
        if not rules:
            self._clear(nft, steerer)
            return []
        self._absent = False
        items = nft.list_table(FAMILY, POLICY_TABLE)
        view = read_table(items) if items is not None else PolicyView()
        digest = policy_digest(desired)
        interfaces = [link.interface for link in desired.links]
        classes = {c.name: c for c in desired.steering.classes}
        if view.digest != digest:
            nft.run(table_batch(rules, interfaces, classes, digest, view.present))
            self.report.rebuilds += 1
            items = nft.list_table(FAMILY, POLICY_TABLE) or []
            view = read_table(items)
            self.states = {k: v for k, v in self.states.items() if _kept(k, rules)}
            self.matches = {k: v for k, v in self.matches.items() if _kept(k, rules)}
        now = self._clock()
        telemetry = Telemetry(
            at=now,
            links=None if steerer is None else {n: h.state for n, h in steerer.health().items()},
            class_bytes=view.class_bytes,
            vnfs=None if observed is None else _vnfs(observed),
            sources={r.name: view.flagged.get(tag(r.name), frozenset()) for r in rules},
        )
        verdict = evaluate(rules, telemetry, self.states)
        self.states, self.dropped = dict(verdict.states), dict(view.dropped)
        for event in verdict.events:
            if event["event"] == "policy-triggered":
                rule = str(event["rule"])
                self.matches[rule] = self.matches.get(rule, 0) + int(event.get("more", 1))
        wanted = verdict.enforcement
        if frozenset(wanted.limits) != view.limits:
            nft.run(limits_batch(wanted.limits, classes, interfaces))
        if steerer is not None and dict(wanted.steer) != steerer.overrides:
            steerer.override(wanted.steer)
        self.enforced = wanted
        self.report.active = sorted(name for name, s in self.states.items() if s.active)
        self.report.last_tick_us = (time.perf_counter() - started) * 1e6
        return list(verdict.events)

    def counters(self) -> dict[str, dict[str, int | bool]]:
        """Per rule (the desired state's, bounded by it): whether it acts now, how many times
        it triggered since the driver started (a new_flows rule: each source it flagged), how
        many sources the kernel holds flagged (blocked or limited) now, and the packets its
        per-source action dropped (kernel counters, since the table was built); {} without rules."""
        return {
            name: {"active": state.active, "matches": self.matches.get(name, 0),
                   "flagged": len(state.sources), "dropped": self.dropped.get(name, 0)}
            for name, state in sorted(self.states.items())
        }  # fmt: skip

    def _clear(self, nft: Nftables, steerer: Steers | None) -> None:
        """No rules: the overrides and the table go (the table is looked for once, when the
        rules go or the driver starts)."""
        if steerer is not None and steerer.overrides:
            steerer.override({})
        self.states, self.enforced, self.matches, self.dropped = {}, Enforcement(), {}, {}
        if self._absent:
            return
        if nft.list_table(FAMILY, POLICY_TABLE) is not None:
            nft.run(remove_batch())
        self._absent = True


def _kept(name: str, rules: tuple[PolicyRule, ...]) -> bool:
    return any(r.name == name for r in rules)


def _vnfs(observed: ObservedState) -> dict[str, tuple[bool, dict[str, int]]]:
    """Per `service/vnf`: healthy, and its packet counters by name (counters.py's shape)."""
    found: dict[str, tuple[bool, dict[str, int]]] = {}
    for service in observed.services:
        for vnf in service.vnfs:
            packets: dict[str, int] = {}
            for group in vnf.counters.values():
                if not isinstance(group, Mapping):
                    continue
                for name, value in group.items():
                    if isinstance(value, Mapping) and isinstance(value.get("packets"), int):
                        packets[str(name)] = int(value["packets"])
            found[f"{service.id}/{vnf.name}"] = (vnf.healthy, packets)
    return found
