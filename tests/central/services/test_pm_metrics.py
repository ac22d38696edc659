"""What Edgewise measures for NS performance management (pure): metric names checked against
the catalogue, values from the sites' counters and links, threshold crossings with hysteresis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edgewise.central.services.pm_metrics import (
    NS,
    SITE,
    LinkReading,
    Telemetry,
    check_metric,
    crossing,
    expand,
    values,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FIREWALL = {"rules": {"rule-0": {"packets": 3, "bytes": 300},
                      "default-inbound": {"packets": 1, "bytes": 60}}}  # fmt: skip
LIMITER = {"queues": {"lan": {"packets": 9, "bytes": 900, "drops": 2}, "wan": {"drops": 1}}}
TELEMETRY = Telemetry(
    ns_sites={"ns": ["a", "b"], "quiet": ["c"]},
    counters={
        "a": (T0, {"services": {"ns": {"firewall": FIREWALL, "limiter": LIMITER}}}),
        "b": (
            T0 + timedelta(seconds=5),
            {"services": {"ns": {"firewall": FIREWALL}, "other": {"x": FIREWALL}}},
        ),
        "c": (T0, {"services": {}}),
    },
    links={"a": {"mpls": LinkReading(12.5, 0.0, None, T0), "lte": LinkReading(40, 1.5, 3, T0)}},
)


@pytest.mark.parametrize(
    ("object_type", "name", "wrong"),
    [
        (NS, "PacketCount", False),
        (NS, "PacketCount.firewall", False),
        (NS, "LinkLatency", True),
        (SITE, "LinkLatency.mpls", False),
        (SITE, "PacketCount", True),
        (NS, "cpu_util", True),
        (NS, "", True),
    ],
)
def test_metric_names_are_checked_against_the_catalogue(
    object_type: str, name: str, wrong: bool
) -> None:
    assert (check_metric(name, object_type, "m") is not None) is wrong


def test_groups_expand_once_each_and_foreign_groups_are_refused() -> None:
    metrics, problems = expand(["ByteCount"], ["VnfTraffic"], NS)
    assert (metrics, problems) == (["ByteCount", "PacketCount", "DropCount"], [])
    _, problems = expand([], ["LinkQuality"], NS)
    assert [p.where for p in problems] == ["criteria.performanceMetricGroup[0]"]


@pytest.mark.parametrize(
    ("object_type", "object_id", "metrics", "expected", "newest"),
    [
        (NS, "ns", ["PacketCount"], {"PacketCount": 4 + 9 + 4}, T0 + timedelta(seconds=5)),
        (NS, "ns", ["ByteCount.firewall"], {"ByteCount.firewall": 720}, T0 + timedelta(seconds=5)),
        (NS, "ns", ["DropCount"], {"DropCount": 3}, T0),
        (NS, "ns", ["DropCount.firewall"], {}, None),
        (NS, "quiet", ["PacketCount"], {}, None),
        (NS, "gone", ["PacketCount"], {}, None),
        (SITE, "a", ["LinkLatency"], {"LinkLatency.lte": 40, "LinkLatency.mpls": 12.5}, T0),
        (SITE, "a", ["LinkJitter"], {"LinkJitter.lte": 3}, T0),
        (SITE, "a", ["LinkLoss.dsl"], {}, None),
    ],
)
def test_values_come_from_what_the_sites_last_reported(
    object_type: str,
    object_id: str,
    metrics: list[str],
    expected: dict[str, float],
    newest: datetime | None,
) -> None:
    assert values(TELEMETRY, object_type, object_id, metrics) == (expected, newest)


@pytest.mark.parametrize(
    ("readings", "notified"),
    [
        ([50, 105, 120, 130, 95, 85, 80], ["UP", "DOWN"]),  # the band holds, once each way
        ([110, 89, 111, 90], ["UP", "DOWN", "UP", "DOWN"]),  # reaching the edge crosses
        ([95, 105, 95], []),  # inside the band: nothing
        ([80, 70], []),  # a threshold starts below: no DOWN first
    ],
)
def test_crossings_with_hysteresis(readings: list[float], notified: list[str]) -> None:
    state: str | None = None
    directions = []
    for value in readings:
        state, direction = crossing(state, value, 100, 10)
        if direction is not None:
            directions.append(direction)
    assert directions == notified
