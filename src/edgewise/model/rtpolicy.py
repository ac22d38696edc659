"""Real-time policy, as a site's desired state carries it: rules the site evaluates every second
on its own telemetry, without the central (docs/realtime-policy.md).

A rule is a condition (`when`) and an action (`then`): a link down or breaking its SLA, a class
above a rate, a VNF rule's counter above a count per interval, a source opening new flows from
the WAN side above a rate, a VNF unhealthy -> steer a class to a link, rate-limit a class or the
source, block the source for a time, raise an event. The central composes a site's rules (its
own, then its tenant's: orchestrator/policy_compose.py); the site's evaluator (site/rtpolicy/)
and its linux driver (drivers/linux/rtpolicy*.py) apply them. `SiteSections` checks that every
link and class a rule names is one of the document's (`references`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from edgewise.model.fields import Broken, Record, Section, prop, specs, unique
from edgewise.model.kinds import Boolean, Choice, Integer, Scalar, Text
from edgewise.model.names import IDENT, NAME
from edgewise.model.problems import Path

MAX_POLICY_RULES: Final = 64
RATE: Final = Scalar("scalar-unit.bitrate", low=8_000, high=100 * 10**9)  # 8 kbit/s .. 100 Gbit/s
MAX_FLOWS_PER_S: Final = 100_000
MAX_BLOCK_S: Final = 86_400
MAX_HOLD_S: Final = 3_600
COUNTER: Final = Text(64, r"[A-Za-z0-9_][A-Za-z0-9_.-]*", "a counter name (e.g. rule-0)")

LINK_DOWN, LINK_SLA, CLASS_RATE = "link_down", "link_sla", "class_rate"
RULE_COUNTER, NEW_FLOWS, VNF_UNHEALTHY = "rule_counter", "new_flows", "vnf_unhealthy"
CONDITIONS: Final = (LINK_DOWN, LINK_SLA, CLASS_RATE, RULE_COUNTER, NEW_FLOWS, VNF_UNHEALTHY)
STEER, RATE_LIMIT, BLOCK, EVENT = "steer", "rate_limit", "block", "event"
ACTIONS: Final = (STEER, RATE_LIMIT, BLOCK, EVENT)

# the fields each kind takes, and whether it must be given (the others must be left out)
CONDITION_FIELDS: Final = {
    LINK_DOWN: {"link": True},
    LINK_SLA: {"link": True},
    CLASS_RATE: {"class_name": True, "rate_above": True},
    RULE_COUNTER: {
        "service": True,
        "vnf": True,
        "counter": True,
        "packets_above": True,
        "per_s": False,
    },
    NEW_FLOWS: {"flows_above": True},
    VNF_UNHEALTHY: {"service": True, "vnf": True},
}
ACTION_FIELDS: Final = {
    STEER: {"class_name": True, "link": True},
    RATE_LIMIT: {"class_name": False, "source": False, "rate": True},
    BLOCK: {"for_s": True},
    EVENT: {"message": False},
}
COUNTER_WINDOW_S: Final = 10  # a rule_counter's per_s when not given


def _fields(record: Section, kind: str, wanted: dict[str, bool]) -> Iterator[Broken]:
    """A problem for each field `kind` needs and lacks, and each it does not take."""
    what = type(record).__name__.lower()
    for spec in specs(type(record)):
        if spec.name == "kind":
            continue
        value = getattr(record, spec.name)
        given = value is not None
        if wanted.get(spec.name) and not given:
            yield Broken((spec.key,), f"a {kind} {what} needs {spec.key}", "missing")
        elif spec.name not in wanted and given:
            yield Broken((spec.key,), f"a {kind} {what} takes no {spec.key}")


@dataclass(frozen=True)
class Condition(Section):
    """When a rule acts: `link_down` / `link_sla` (the link is down / breaks its probe's
    limits), `class_rate` (the class's traffic out of the site above `rate_above`),
    `rule_counter` (the VNF's counter, e.g. a firewall's `rule-0`, grew by more than
    `packets_above` within `per_s` seconds, 10 unless given), `new_flows` (a source on the WAN
    side opens more than `flows_above` new flows per second), `vnf_unhealthy` (the VNF is not
    healthy)."""

    kind: str = prop(Choice(CONDITIONS), required=True)
    link: str | None = prop(NAME)
    class_name: str | None = prop(NAME, key="class")
    rate_above: int | None = prop(RATE)
    service: str | None = prop(IDENT)
    vnf: str | None = prop(NAME)
    counter: str | None = prop(COUNTER)
    packets_above: int | None = prop(Integer(0, 10**12, "a count of packets"))
    per_s: int | None = prop(Integer(1, MAX_HOLD_S, "seconds"))
    flows_above: int | None = prop(Integer(1, MAX_FLOWS_PER_S, "new flows per second"))

    def problems(self) -> Iterator[Broken]:
        yield from _fields(self, self.kind, CONDITION_FIELDS[self.kind])

    @property
    def window_s(self) -> int:
        """The seconds a rule_counter's counter is read over."""
        return self.per_s or COUNTER_WINDOW_S


@dataclass(frozen=True)
class Action(Section):
    """What a rule does while its condition holds (and `hold_s` after): `steer` the class to
    the link, `rate_limit` the class (or with `source`, each matched source) to `rate`, `block`
    the matched source for `for_s` seconds, raise an `event` (with `message`)."""

    kind: str = prop(Choice(ACTIONS), required=True)
    class_name: str | None = prop(NAME, key="class")
    link: str | None = prop(NAME)
    source: bool | None = prop(Boolean())
    rate: int | None = prop(RATE)
    for_s: int | None = prop(Integer(1, MAX_BLOCK_S, "seconds"))
    message: str | None = prop(Text(256))

    def problems(self) -> Iterator[Broken]:
        yield from _fields(self, self.kind, ACTION_FIELDS[self.kind])
        if self.kind == RATE_LIMIT and bool(self.source) == (self.class_name is not None):
            yield Broken(
                ("class",),
                "a rate_limit action limits a class or (source: true) the "
                "matched source: one of them",
                "missing",
            )


@dataclass(frozen=True)
class PolicyRule(Section):
    """One rule: `then` while `when` holds and `hold_s` seconds after it last held (so a limit
    that brings a rate down is not lifted at once); a `new_flows` rule acts per source, in the
    kernel, on the source that crossed the rate. `tenant`: whose rule it is (the central sets
    it on a tenant's rules)."""

    name: str = prop(NAME, required=True)
    when: Condition = prop(Record(Condition), required=True)
    then: Action = prop(Record(Action), required=True)
    hold_s: int = prop(Integer(0, MAX_HOLD_S, "seconds"), default=10)
    tenant: str | None = prop(IDENT)

    def problems(self) -> Iterator[Broken]:
        per_source = self.then.kind == BLOCK or (
            self.then.kind == RATE_LIMIT and bool(self.then.source)
        )
        if per_source and self.when.kind != NEW_FLOWS:
            yield Broken(
                ("then", "kind"),
                f"a {self.then.kind} of the matched source needs a "
                f"new_flows condition (it names the source), not {self.when.kind}",
            )
        if self.when.kind == NEW_FLOWS and not (per_source or self.then.kind == EVENT):
            yield Broken(
                ("then", "kind"),
                "a new_flows rule blocks, rate-limits (source: true) "
                f"or raises an event for the source, it does not {self.then.kind}",
            )

    def references(self) -> Iterator[tuple[Path, str, str]]:
        """(path, what, name) of each link and class the rule names. The VNFs it names are not
        checked against the document's services: those come and go with NS operations, and a
        VNF not running is unhealthy and counts nothing."""
        for part, record in (("when", self.when), ("then", self.then)):
            if record.link is not None:
                yield (part, "link"), "link", record.link
            if record.class_name is not None:
                yield (part, "class"), "class", record.class_name


def rule_problems(
    rules: tuple[PolicyRule, ...], links: set[str], classes: set[str]
) -> Iterator[Broken]:
    """Names repeated, and references to links and classes (of steering) the document does
    not have, by path under `policy_rules`."""
    yield from unique(rules, lambda r: r.name, "policy_rules")
    known = {"link": (links, "links"), "class": (classes, "steering.classes")}
    for index, rule in enumerate(rules):
        for path, what, name in rule.references():
            names, where = known[what]
            if name not in names:
                yield Broken(("policy_rules", index, *path), f"{name!r} names no {what} of {where}")
