"""One evaluation of a site's policy rules (pure; the clock is a number given): which rules
hold now, what they make the data plane do, and the events of what changed.

A rule's condition is read from `Telemetry`; a rule is active while its condition holds and
`hold_s` seconds after it last held. Rates are the growth of a cumulative counter between two
readings (a counter that went back, a ruleset reloaded, gives no rate until the next one). A
`new_flows` rule is active while the kernel holds a source in its set (it flags and acts on the
source itself, drivers/linux/rtpolicy_table.py); each source that enters or leaves the set is
an event. What telemetry does not know (link health before steering is loaded, VNFs before the
first observation) holds no condition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from edgewise.model.rtpolicy import (
    CLASS_RATE,
    LINK_DOWN,
    LINK_SLA,
    NEW_FLOWS,
    RATE_LIMIT,
    RULE_COUNTER,
    STEER,
    VNF_UNHEALTHY,
    PolicyRule,
)
from edgewise.site.health.states import LinkState

MAX_SOURCE_EVENTS: Final = 16  # per rule and evaluation: the rest are counted in one event
Event = dict[str, Any]


@dataclass(frozen=True)
class Telemetry:
    """What the site knows now. `links`: each link's state (None: not known); `class_bytes`:
    bytes each class sent out of the site so far; `vnfs`: per `service/vnf`, whether it is
    healthy and its packet counters by name (None: not observed yet); `sources`: per new_flows
    rule, the sources the kernel holds flagged now."""

    at: float
    links: Mapping[str, LinkState] | None = None
    class_bytes: Mapping[str, int] = field(default_factory=dict)
    vnfs: Mapping[str, tuple[bool, Mapping[str, int]]] | None = None
    sources: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleState:
    """A rule after an evaluation: active or not, since when, when its condition last held,
    the readings its rate is computed from, and the sources flagged."""

    active: bool = False
    since: float = 0.0
    held_at: float | None = None
    readings: tuple[tuple[float, int], ...] = ()
    sources: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Enforcement:
    """What the active rules make the data plane do beyond the kernel's own per-source
    actions: a link for each steered class, a rate (bit/s) per limited class by rule name."""

    steer: Mapping[str, str] = field(default_factory=dict)
    limits: Mapping[str, tuple[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    states: Mapping[str, RuleState]
    enforcement: Enforcement
    events: tuple[Event, ...]


def evaluate(
    rules: Sequence[PolicyRule], telemetry: Telemetry, previous: Mapping[str, RuleState]
) -> Verdict:
    """The rules' states after `previous` given `telemetry`; the events of what changed."""
    states: dict[str, RuleState] = {}
    events: list[Event] = []
    for rule in rules:
        before = previous.get(rule.name, RuleState())
        if rule.when.kind == NEW_FLOWS:
            state, told = _per_source(rule, telemetry, before)
        else:
            state, told = _level(rule, telemetry, before)
        states[rule.name] = state
        events += told
    return Verdict(states, enforcement(rules, states), tuple(events))


def _level(rule: PolicyRule, now: Telemetry, before: RuleState) -> tuple[RuleState, list[Event]]:
    readings = before.readings
    reading = _reading(rule, now)
    if reading is not None:  # a rate: since the last reading; a counter: over its window
        if rule.when.kind == CLASS_RATE:
            kept = readings[-1:]
        else:
            kept = tuple(r for r in readings if r[0] >= now.at - rule.when.window_s)
        readings = (*kept, (now.at, reading))
    elif rule.when.kind in (CLASS_RATE, RULE_COUNTER):
        readings = ()
    holds, detail = _holds(rule, now, readings)
    held_at = now.at if holds else before.held_at
    active = holds or (before.active and held_at is not None and now.at - held_at < rule.hold_s)
    events: list[Event] = []
    if active and not before.active:
        events.append(_event("policy-triggered", rule, detail))
    elif before.active and not active:
        events.append(_event("policy-cleared", rule, f"not since {rule.hold_s} s"))
    since = before.since if active == before.active else now.at
    return RuleState(active, since, held_at, readings), events


def _reading(rule: PolicyRule, now: Telemetry) -> int | None:
    when = rule.when
    if when.kind == CLASS_RATE and when.class_name is not None:
        return now.class_bytes.get(when.class_name)
    if when.kind == RULE_COUNTER and now.vnfs is not None and when.counter is not None:
        seen = now.vnfs.get(f"{when.service}/{when.vnf}")
        return None if seen is None else seen[1].get(when.counter)
    return None


def _holds(
    rule: PolicyRule, now: Telemetry, readings: tuple[tuple[float, int], ...]
) -> tuple[bool, str]:
    """Whether the condition holds now, and in words what was seen."""
    when = rule.when
    if when.kind in (LINK_DOWN, LINK_SLA):
        if now.links is None:
            return False, ""
        state = now.links.get(str(when.link), LinkState.DOWN)
        broken = state is LinkState.DOWN or (when.kind == LINK_SLA and state is not LinkState.UP)
        return broken, f"link {when.link} is {state.value}"
    if when.kind == VNF_UNHEALTHY:
        if now.vnfs is None:
            return False, ""
        seen = now.vnfs.get(f"{when.service}/{when.vnf}")
        return seen is None or not seen[0], f"VNF {when.vnf} of {when.service} is not healthy"
    if len(readings) < 2 or readings[-1][1] < readings[0][1]:
        return False, ""
    (first_at, first), (last_at, last) = readings[0], readings[-1]
    if when.kind == CLASS_RATE:
        elapsed = last_at - first_at
        bps = (last - first) * 8 / elapsed if elapsed > 0 else 0.0
        limit = when.rate_above or 0
        return bps > limit, f"class {when.class_name} at {bps:.0f} bit/s (above {limit})"
    grown = last - first
    above = when.packets_above or 0
    return grown > above, (
        f"{when.counter} of {when.service}/{when.vnf} grew by {grown} packets in "
        f"{last_at - first_at:.0f} s (above {above} per {when.window_s} s)"
    )


def _per_source(
    rule: PolicyRule, now: Telemetry, before: RuleState
) -> tuple[RuleState, list[Event]]:
    sources = now.sources.get(rule.name, frozenset())
    events: list[Event] = []
    for name, found in (
        ("policy-triggered", sources - before.sources),
        ("policy-cleared", before.sources - sources),
    ):
        listed = sorted(found)
        for source in listed[:MAX_SOURCE_EVENTS]:
            what = (
                f"{source} opened more than {rule.when.flows_above} new flows per second"
                if name == "policy-triggered"
                else f"{source} is no longer flagged"
            )
            events.append(_event(name, rule, what) | {"source": source})
        if len(listed) > MAX_SOURCE_EVENTS:
            rest = len(listed) - MAX_SOURCE_EVENTS
            events.append(_event(name, rule, f"and {rest} more sources") | {"more": rest})
    active = bool(sources)
    since = before.since if active == before.active else now.at
    return RuleState(active, since, now.at if active else before.held_at, (), sources), events


def _event(name: str, rule: PolicyRule, detail: str) -> Event:
    event: Event = {
        "event": name,
        "rule": rule.name,
        "condition": rule.when.kind,
        "action": rule.then.kind,
        "detail": detail,
    }
    if rule.then.message is not None:
        event["message"] = rule.then.message
    if rule.tenant is not None:
        event["tenant"] = rule.tenant
    return event


def enforcement(rules: Sequence[PolicyRule], states: Mapping[str, RuleState]) -> Enforcement:
    """The steering overrides and class limits of the active rules (the first active rule
    steering a class decides its link)."""
    steer: dict[str, str] = {}
    limits: dict[str, tuple[str, int]] = {}
    for rule in rules:
        state = states.get(rule.name)
        if state is None or not state.active or rule.when.kind == NEW_FLOWS:
            continue
        then = rule.then
        if then.kind == STEER and then.class_name is not None and then.link is not None:
            steer.setdefault(then.class_name, then.link)
        elif then.kind == RATE_LIMIT and then.class_name is not None and then.rate is not None:
            limits[rule.name] = (then.class_name, then.rate)
    return Enforcement(steer, limits)
