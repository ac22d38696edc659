"""A simulator worker's probe: what its sites did since the last message, drained once."""

from __future__ import annotations

from edgewise.lab.simulator.worker import Probe


def test_probe_drains_what_happened_since_the_last_message() -> None:
    probe = Probe()
    probe.note("received", "site-a", 3)
    probe.answered()
    first = probe.drain()
    assert [event[:3] for event in first["events"]] == [["received", "site-a", 3]]
    assert sum(first["requests"].values()) == 1
    assert probe.drain()["events"] == []
