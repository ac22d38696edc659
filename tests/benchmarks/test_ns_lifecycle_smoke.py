"""Smoke run of the NS life-cycle benchmark: a rollout, the LCM load, the figures printed.

A measurement, not a timed test: nothing here asserts a duration.
"""

from __future__ import annotations

import re

import pytest

from tests.benchmarks.test_channel_smoke import bench

pytestmark = pytest.mark.slow


def test_ns_lifecycle_prints_its_figures() -> None:
    out = bench("ns_lifecycle", "--sites", "12", "--lcm-sites", "12", "--timeout", "90",
                timeout=240)  # fmt: skip
    assert re.search(r"\[12 sites\] rollout to all: [\d.]+ s \(12/12 COMPLETED\)", out)
    assert re.search(
        r"\[12 sites\] LCM: 36 ops COMPLETED in [\d.]+ s = \d+ ops/s \(0 failed\); "
        r"API read p50/p99/max: [\d.]+ / [\d.]+ / [\d.]+ ms",
        out,
    )
