"""Smoke runs of the SD-WAN benchmarks: each main path works and prints its figures.

Measurements, not timed tests: nothing here asserts a duration.
"""

from __future__ import annotations

import re

import pytest

from tests.benchmarks.test_channel_smoke import bench

pytestmark = pytest.mark.slow


def test_steering_recompose_prints_its_figures() -> None:
    out = bench("steering_recompose", "--sites", "30")
    assert re.search(
        r"\[30 sites\] fleet-wide policy added: [\d.]+ s \(30 documents written\)", out
    )
    assert re.search(r"\[30 sites\] fleet-wide policy changed: [\d.]+ s \(30 documents", out)
    assert re.search(r"\[30 sites\] one site's policy added: [\d.]+ s \(1 documents", out)


def test_overlay_topology_prints_its_figures() -> None:
    out = bench("overlay_topology", "--spokes", "6", "--mesh", "3", "--timeout", "60")
    assert re.search(r"\[hub-and-spoke of 7 sites\] desired state of the hub: \d+ bytes", out)
    assert re.search(r"\[hub-and-spoke of 7 sites\] desired state of a spoke: \d+ bytes", out)
    assert re.search(r"\[full-mesh of 3 sites\] desired state of a member: \d+ bytes", out)
    assert re.search(
        r"\[hub-and-spoke of 7 sites\] central recompute after one site joins: "
        r"\d+ ms \(2 documents written\)",
        out,
    )
    assert re.search(r"\[full-mesh of 3 sites\] central recompute .*\(4 documents written\)", out)
    assert re.search(
        r"\[hub-and-spoke of 7 sites, simulated\] time until every site has its "
        r"new peer: [\d.]+ s \(p50 [\d.]+ s, 2/2 sites\)",
        out,
    )
    assert re.search(
        r"\[full-mesh of 3 sites, simulated\] time until every site has its new "
        r"peer: [\d.]+ s \(p50 [\d.]+ s, 4/4 sites\)",
        out,
    )
