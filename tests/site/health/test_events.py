"""Link-state events and their limit (pure, times given): a flapping link's changes are held
back beyond the burst, the latest held one goes out when the link may send again (if news)."""

from __future__ import annotations

from edgewise.site.health.events import LinkEvent, LinkEventLimiter


def event(new: str, old: str = "up", link: str = "mpls") -> LinkEvent:
    return LinkEvent(link, old, new, "test", "2026-01-01T00:00:00+00:00", {"latency_ms": 1.0})


def test_the_body_is_the_outbox_event() -> None:
    assert event("down").body() == {
        "event": "link-state", "link": "mpls", "from": "up", "to": "down", "reason": "test",
        "at": "2026-01-01T00:00:00+00:00", "figures": {"latency_ms": 1.0},
    }  # fmt: skip


def test_a_flapping_link_sends_its_burst_then_one_per_refill() -> None:
    limiter = LinkEventLimiter(burst=3, refill_s=10.0)
    states = ["down", "up"] * 50  # 100 changes in 10 s
    sent = [limiter.offer(event(s), now=i * 0.1) for i, s in enumerate(states)]
    assert [e.new for e in sent if e is not None] == ["down", "up", "down"]
    assert limiter.offer(event("down", link="inet"), now=9.9) is not None  # other links: their own
    assert limiter.due(now=9.95) == []
    wait = limiter.next_due(now=9.95)
    assert wait is not None
    assert 0 < wait <= 10
    later = limiter.due(now=20.0)  # a token again: the latest held change, counted
    assert [(e.new, e.held_back) for e in later] == [("up", 96)]
    assert later[0].body()["heldBack"] == 96
    assert limiter.next_due(now=20.0) is None


def test_a_held_change_back_to_the_state_reported_is_dropped() -> None:
    limiter = LinkEventLimiter(burst=1, refill_s=10.0)
    assert limiter.offer(event("down"), now=0.0) is not None
    assert limiter.offer(event("up", old="down"), now=1.0) is None
    assert limiter.offer(event("down", old="up"), now=2.0) is None
    assert limiter.due(now=20.0) == []  # it is down, as last reported: nothing new
    assert limiter.offer(event("up", old="down"), now=21.0) is not None
