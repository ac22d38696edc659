"""The linux driver's pure rule builders: classifier marks, token buckets, counters' shape."""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from typing import Any

from edgewise.model.functions import ClassifierConfig, RateLimiterConfig, TrafficClass
from edgewise.site.drivers.linux.classes import UNCLASSIFIED, classifier, counter_name
from edgewise.site.drivers.linux.counters import vnf_counters
from edgewise.site.drivers.linux.layout import GROUP_LAN, GROUP_WAN
from edgewise.site.drivers.linux.rulesets import read_shaped_groups, table_batch
from edgewise.site.drivers.linux.shaping import Bucket, buckets

Json = dict[str, Any]
WEB = TrafficClass("web", "tcp", (80, 443), None, ())
VOICE = TrafficClass("voice", "udp", (), 46, (IPv4Network("198.51.100.0/24"),))


def added(batch: list[Json], kind: str) -> list[Json]:
    return [item["add"][kind] for item in batch if kind in item.get("add", {})]


def rules_of(batch: list[Json], chain: str) -> list[str]:
    return [json.dumps(r["expr"]) for r in added(batch, "rule") if r["chain"] == chain]


def test_each_class_marks_its_flows_in_order_and_the_rest_are_unclassified() -> None:
    batch = classifier(ClassifierConfig((WEB, VOICE)))
    assign = rules_of(batch, "assign")

    assert len(assign) == 1 + 2 + 1  # web; voice by destination or by source; the rest
    assert '"value": 1}' in assign[0]
    assert '"set": [80, 443]' in assign[0]
    assert all('"value": 2}' in rule for rule in assign[1:3])
    assert '"dscp"' in assign[1]
    assert "daddr" in assign[1]
    assert "saddr" in assign[2]
    assert f'"value": {UNCLASSIFIED}' in assign[3]
    counters = [c["name"] for c in added(batch, "counter")]
    assert counters == ["class-web", "class-voice", "class-unclassified"]
    assert counter_name("a b") != "class-a b"  # unsafe names are hashed


def test_token_buckets_go_on_the_leg_each_direction_leaves_by() -> None:
    config = RateLimiterConfig(ingress_bps=30_000_000, egress_bps=50_000_000, burst_bytes=None)

    assert buckets(config) == {
        GROUP_WAN: Bucket(50_000_000, 62_500),
        GROUP_LAN: Bucket(30_000_000, 37_500),
    }
    assert buckets(RateLimiterConfig(None, 1_000_000, 9000)) == {GROUP_WAN: Bucket(1_000_000, 9000)}
    batch = table_batch("rate-limiter", "d1", config)
    items = [{"rule": r} for r in added(batch, "rule")]
    assert read_shaped_groups(items) == [GROUP_LAN, GROUP_WAN]


def test_counters_are_reported_under_the_key_of_the_function() -> None:
    items: list[Json] = [
        {"rule": {"chain": "forward", "comment": "rule-0",
                  "expr": [{"counter": {"packets": 3, "bytes": 180}}, {"accept": None}]}},
        {"counter": {"name": "class-web", "packets": 7, "bytes": 700}},
    ]  # fmt: skip

    assert vnf_counters("firewall", items) == {"rules": {"rule-0": {"packets": 3, "bytes": 180}}}
    assert vnf_counters("classifier", items) == {"classes": {"web": {"packets": 7, "bytes": 700}}}
    assert vnf_counters("router", items) == {}
