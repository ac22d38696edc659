"""What a probe's client prints becomes the flow's outcome: connected, the source the far end
saw, the bytes it received; anything else is a flow that did not pass."""

from __future__ import annotations

from edgewise.lab.demo.sitelab import Probe


def test_a_probe_line_is_the_flows_outcome() -> None:
    assert Probe.parse("ok 10.255.0.1 262144") == Probe(
        passed=True, seen_source="10.255.0.1", bytes_received=262144
    )
    assert Probe.parse("failed TimeoutError") == Probe(passed=False)
    assert Probe.parse("ok 10.255.0.1 lots") == Probe(passed=False)
    assert Probe.parse("") == Probe(passed=False)
