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
