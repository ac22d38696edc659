"""The elastic VNF's spreader batch and names (pure), and the drain timeout's bound."""

from __future__ import annotations

from typing import Any

import pytest

from edgewise.site.drivers.linux.layout import SiteNetwork, member_name, split_member
from edgewise.site.drivers.linux.scaleside import ElasticVnfs
from edgewise.site.drivers.linux.spread import (
    MASK,
    Leg,
    mark_of,
    read_spread_marker,
    spread_batch,
    spread_marker,
)

LEGS = [Leg(0, "ewaal", 5), Leg(1, "ewbbl", 7), Leg(2, "ewccl", 9)]


def maps(batch: list[dict[str, Any]]) -> list[list[list[Any]]]:
    found = []
    for command in batch:
        rule = command.get("add", {}).get("rule")
        for expr in (rule or {}).get("expr", []):
            value = expr.get("mangle", {}).get("value", {})
            if isinstance(value, dict) and "map" in value:
                found.append(value["map"]["data"]["set"])
    return found


def test_new_flows_hash_over_the_active_instances_only_and_legs_keep_all() -> None:
    by_leg, by_hash = maps(spread_batch(LEGS, [0, 1]))  # instance 2 drains
    assert by_leg == [["ewaal", mark_of(0)], ["ewbbl", mark_of(1)], ["ewccl", mark_of(2)]]
    assert by_hash == [[0, mark_of(0)], [1, mark_of(1)]]
    assert all(mark & MASK == mark for _, mark in by_hash)


def test_the_marker_reads_back_and_changes_with_a_drain() -> None:
    batch = spread_batch(LEGS, [0, 1, 2])
    items = [{"rule": c["add"]["rule"]} for c in batch if "rule" in c.get("add", {})]
    assert read_spread_marker(items) == (spread_marker(LEGS, [0, 1, 2]), "ewaal,ewbbl,ewccl")
    assert spread_marker(LEGS, [0, 1]) != spread_marker(LEGS, [0, 1, 2])


def test_no_active_instance_is_refused() -> None:
    with pytest.raises(ValueError, match="no active instance"):
        spread_batch(LEGS, [])


@pytest.mark.parametrize(("hop", "split"), [("fw", ("fw", 0)), ("fw+2", ("fw", 2)),
                                            ("a+b", ("a+b", 0)), ("+1", ("+1", 0))])  # fmt: skip
def test_instance_hops(hop: str, split: tuple[str, int]) -> None:
    assert split_member(hop) == split
    assert member_name(*split) == hop


@pytest.mark.parametrize("seconds", [-1.0, 3601.0])
def test_the_drain_timeout_is_bounded(seconds: float) -> None:
    with pytest.raises(ValueError, match="drain_timeout_s"):
        ElasticVnfs(SiteNetwork("ew", "ew-lan", "ew-wan"), seconds)
