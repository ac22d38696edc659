"""The classifier's flow table under a fake clock: bounded, idle flows expire, decided flows
linger briefly, every state leaving without a decision is released once."""

from __future__ import annotations

import pytest

from edgewise.site.drivers.linux.dpi.flows import FlowTable


def table(**kwargs: float) -> tuple[FlowTable[str, str], list[str]]:
    released: list[str] = []
    return FlowTable(released.append, **kwargs), released  # type: ignore[arg-type]


def test_packets_are_counted_per_flow() -> None:
    flows, _ = table()
    assert flows.touch("a", 0.0, lambda: "A").packets == 1
    entry = flows.touch("a", 1.0, lambda: "other")
    assert (entry.state, entry.packets, entry.last_seen) == ("A", 2, 1.0)
    assert len(flows) == 1


def test_idle_flows_expire_and_are_released() -> None:
    flows, released = table(idle=30.0)
    flows.touch("a", 0.0, lambda: "A")
    flows.touch("b", 10.0, lambda: "B")
    assert flows.expire(29.9) == 0
    assert flows.expire(30.0) == 1
    assert released == ["A"]
    flows.touch("b", 35.0, lambda: "B2")  # seen again: its clock restarts
    assert flows.expire(60.0) == 0
    assert flows.expire(65.0) == 1
    assert released == ["A", "B"]
    assert len(flows) == 0
    assert flows.expired == 2


def test_a_full_table_drops_the_least_recently_seen_flow() -> None:
    flows, released = table(limit=2)
    flows.touch("a", 0.0, lambda: "A")
    flows.touch("b", 1.0, lambda: "B")
    flows.touch("a", 2.0, lambda: "A")  # a is now the most recent
    flows.touch("c", 3.0, lambda: "C")
    assert released == ["B"]
    assert flows.evicted == 1
    assert len(flows) == 2


def test_a_decided_flow_is_remembered_for_the_linger_time_only() -> None:
    flows, released = table(linger=2.0)
    flows.touch("a", 0.0, lambda: "A")
    assert flows.decide("a", 1.0) == "A"  # the caller frees it, the table does not
    assert released == []
    assert len(flows) == 0
    assert flows.decided_recently("a")
    flows.expire(2.9)
    assert flows.decided_recently("a")
    flows.expire(3.0)
    assert not flows.decided_recently("a")


def test_forgetting_a_flow_releases_it_and_its_decision() -> None:
    flows, released = table()
    flows.touch("a", 0.0, lambda: "A")
    flows.forget("a")
    flows.touch("b", 0.0, lambda: "B")
    flows.decide("b", 0.0)
    flows.forget("b")
    flows.forget("c")  # unknown: nothing happens
    assert released == ["A"]
    assert not flows.decided_recently("b")
    assert len(flows) == 0


def test_clear_releases_everything() -> None:
    flows, released = table()
    for key in "abc":
        flows.touch(key, 0.0, key.upper)
    flows.clear()
    assert sorted(released) == ["A", "B", "C"]
    assert len(flows) == 0


def test_a_table_holds_at_least_one_flow() -> None:
    with pytest.raises(ValueError, match="at least one"):
        table(limit=0)
