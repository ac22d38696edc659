"""What real-time policy makes of the data plane (pure, or over fakes): steering's decision with
a steer rule's override, the policy table's batches and listing, the enforcer's idempotence."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from edgewise.model.desired import DesiredState
from edgewise.model.fields import read, write
from edgewise.model.rtpolicy import PolicyRule
from edgewise.model.steering import AppClass, Steering
from edgewise.site.drivers.linux.rtpolicy import PolicyEnforcer
from edgewise.site.drivers.linux.rtpolicy_table import (
    limits_batch,
    read_table,
    table_batch,
    tag,
)
from edgewise.site.rtpolicy.override import overridden
from edgewise.site.sdwan.decide import Decision, decide
from edgewise.site.sdwan.health import DOWN, UP, LinkHealth

STEERING = read(Steering, {
    "classes": [{"name": "voice", "protocol": "udp", "ports": [5060]}],
    "policies": [{"class": "voice", "links": ["mpls", "inet"]}],
})  # fmt: skip
VOICE = read(AppClass, {"name": "voice", "protocol": "udp", "ports": [5060]})


def steered(overrides: dict[str, str], inet_up: bool) -> Decision:
    health = {"mpls": UP, "inet": UP if inet_up else DOWN}
    decision = decide(STEERING, ["mpls", "inet"], health, None, 0.0)
    return overridden(decision, STEERING, overrides, health, 1.0)


def test_a_steer_rule_moves_its_class_to_its_link_while_that_link_is_usable() -> None:
    assert steered({}, inet_up=True).links("voice") == ("mpls",)
    assert steered({"voice": "inet"}, inet_up=True).links("voice") == ("inet",)
    assert steered({"voice": "inet"}, inet_up=False).links("voice") == ("mpls",)
    assert steered({"bulk": "inet"}, inet_up=True).links("voice") == ("mpls",)


def rule(name: str, when: dict[str, Any], then: dict[str, Any]) -> PolicyRule:
    return read(PolicyRule, {"name": name, "when": when, "then": then})


SCAN = rule("scan", {"kind": "new_flows", "flows_above": 20}, {"kind": "block", "for_s": 60})
SPAM = rule("spam", {"kind": "new_flows", "flows_above": 50},
            {"kind": "rate_limit", "source": True, "rate": "1 Mbps"})  # fmt: skip


def commands(batch: list[dict[str, Any]], verb: str, what: str) -> list[str]:
    return [c[verb][what]["name"] for c in batch if verb in c and what in c[verb]]


def test_a_rebuild_keeps_the_flagged_sources_and_drops_the_sets_of_rules_gone() -> None:
    gone = f"o_{tag('old')}"
    batch = table_batch([SCAN, SPAM], ["mpls0"], {}, "d", present=[f"o_{tag('scan')}", gone])
    assert commands(batch, "delete", "set") == [gone]
    assert f"o_{tag('scan')}" not in commands(batch, "add", "set")  # kept as the kernel has it
    assert f"o_{tag('scan')}" not in commands(batch, "flush", "set")  # blocked stay blocked
    assert commands(batch, "flush", "set") == [f"m_{tag('scan')}", f"m_{tag('spam')}",
                                               f"l_{tag('spam')}"]  # fmt: skip
    rules = [c["add"]["rule"] for c in batch if "rule" in c.get("add", {})]
    guard = [r["comment"] for r in rules if r["chain"] == "guard"]
    assert guard == ["scan", "spam", "scan", "spam"]  # the actions first, then the watches


def test_the_limit_chain_holds_exactly_the_active_limits() -> None:
    batch = limits_batch({"cap": ("voice", 8_000_000), "gone": ("bulk", 8_000)},
                         {"voice": VOICE}, ["mpls0"])  # fmt: skip
    assert "flush" in batch[0]
    (added,) = [c["add"]["rule"] for c in batch[1:]]
    assert added["comment"] == "cap"
    limit = next(e["limit"] for e in added["expr"] if "limit" in e)
    assert (limit["rate"], limit["rate_unit"], limit["inv"]) == (1_000_000, "bytes", True)


def test_the_listing_tells_flagged_sources_class_bytes_limits_and_the_digest() -> None:
    h = tag("scan")
    items: list[dict[str, Any]] = [
        {"set": {"name": f"o_{h}", "elem": [{"elem": {"val": "192.0.2.66", "timeout": 60}},
                                            "192.0.2.67"]}},
        {"set": {"name": f"m_{h}"}},
        {"counter": {"name": "class.voice", "packets": 3, "bytes": 900}},
        {"rule": {"chain": "info", "comment": "ew1 rtpolicy abc 2", "expr": []}},
        {"rule": {"chain": "guard", "comment": "scan",
                  "expr": [{"counter": {"packets": 7, "bytes": 420}}, {"drop": None}]}},
        {"rule": {"chain": "limit", "comment": "cap", "expr": []}},
    ]  # fmt: skip
    view = read_table(items)
    assert view.digest == "abc"
    assert view.flagged == {h: frozenset({"192.0.2.66", "192.0.2.67"})}
    assert view.class_bytes == {"voice": 900}
    assert view.limits == frozenset({"cap"})
    assert view.dropped == {"scan": 7}
    assert read_table(items[:3] + items[4:]).digest == ""  # the marker gone: rebuild


class FakeNft:
    """The policy table as a batch leaves it: its rules by chain (enough for the enforcer)."""

    def __init__(self) -> None:
        self.rules: dict[str, list[dict[str, Any]]] | None = None
        self.batches = 0

    def run(self, commands: list[dict[str, Any]]) -> dict[str, Any]:
        self.batches += 1
        for command in commands:
            verb, what = next(iter(command.items()))
            if verb == "add" and "table" in what:
                self.rules = self.rules if self.rules is not None else {}
            elif verb == "delete" and "table" in what:
                self.rules = None
            elif verb == "flush" and "chain" in what and self.rules is not None:
                self.rules[what["chain"]["name"]] = []
            elif verb == "add" and "rule" in what and self.rules is not None:
                self.rules.setdefault(what["rule"]["chain"], []).append(what["rule"])
        return {}

    def list_table(self, family: str, name: str) -> list[dict[str, Any]] | None:
        if self.rules is None:
            return None
        return [{"rule": r} for rules in self.rules.values() for r in rules]


class FakeSteerer:
    def __init__(self, inet: LinkHealth) -> None:
        self.inet = inet
        self.overrides: dict[str, str] = {}
        self.calls = 0

    def health(self) -> dict[str, LinkHealth]:
        return {"mpls": UP, "inet": self.inet}

    def override(self, classes: Mapping[str, str]) -> bool:
        self.calls += 1
        self.overrides = dict(classes)
        return True


def site_state(*rules: dict[str, Any]) -> DesiredState:
    links = [{"name": n, "kind": "other", "interface": f"{n}0", "gateway": "192.0.2.1"}
             for n in ("mpls", "inet")]  # fmt: skip
    document = {"services": [], "links": links, "steering": write(STEERING),
                "policy_rules": list(rules)}  # fmt: skip
    return DesiredState.from_document(1, document)


def test_a_steer_rule_is_applied_once_and_again_to_a_steerer_made_anew() -> None:
    desired = site_state({"name": "away", "when": {"kind": "link_down", "link": "inet"},
                          "then": {"kind": "steer", "class": "voice", "link": "mpls"}})  # fmt: skip
    nft, enforcer = FakeNft(), PolicyEnforcer(clock=lambda: 0.0)
    steerer = FakeSteerer(DOWN)

    def tick(on: FakeSteerer | None) -> list[dict[str, Any]]:
        return enforcer.tick(lambda: contextlib.nullcontext(nft), desired, None, on)

    assert [e["event"] for e in tick(steerer)] == ["policy-triggered"]
    tick(steerer)
    assert (steerer.overrides, steerer.calls) == ({"voice": "mpls"}, 1)  # idempotent
    assert enforcer.report.rebuilds == 1
    again = FakeSteerer(DOWN)  # steering loaded anew (a restarted WAN side)
    tick(again)
    assert again.overrides == {"voice": "mpls"}
    tick(None)  # no steering: nothing to override, nothing fails
    enforcer.tick(lambda: contextlib.nullcontext(nft), site_state(), None, again)
    assert again.overrides == {}  # the rules went: so did the override
    assert nft.rules is None  # and the table


def test_the_counters_per_rule_count_triggers_and_go_with_the_rules() -> None:
    desired = site_state({"name": "away", "when": {"kind": "link_down", "link": "inet"},
                          "then": {"kind": "steer", "class": "voice", "link": "mpls"}})  # fmt: skip
    now = [0.0]
    nft, enforcer = FakeNft(), PolicyEnforcer(clock=lambda: now[0])
    steerer = FakeSteerer(DOWN)

    def tick(state: DesiredState) -> None:
        now[0] += 30.0  # past the rule's hold (10 s)
        enforcer.tick(lambda: contextlib.nullcontext(nft), state, None, steerer)

    assert enforcer.counters() == {}
    tick(desired)
    tick(desired)
    assert enforcer.counters() == {
        "away": {"active": True, "matches": 1, "flagged": 0, "dropped": 0}
    }
    steerer.inet = UP
    tick(desired)  # cleared
    steerer.inet = DOWN
    tick(desired)
    assert enforcer.counters()["away"] == {"active": True, "matches": 2, "flagged": 0, "dropped": 0}
    tick(site_state())
    assert enforcer.counters() == {}
