"""Smoke run of the console's render benchmark: 300 sites, 3 loads of each page in Debian's
Chromium against a real central; every figure printed.

A measurement, not a timed test: nothing here asserts a duration.
"""

from __future__ import annotations

import re

import pytest

from tests.benchmarks.test_channel_smoke import bench

pytestmark = pytest.mark.slow


def test_web_render_prints_its_figures() -> None:
    out = bench("web_render", "--sites", "300", "--loads", "3", timeout=240)
    for page in ("dashboard", "sites list", "sites filtered"):
        for figure in ("server response", "first contentful paint", "time to interactive"):
            assert re.search(
                rf"\[300 sites, {page}\] {figure} p50/p99: \d+ / \d+ ms \(3 loads\)", out
            ), (page, figure, out)
        assert re.search(rf"\[300 sites, {page}\] page size: \d+ bytes", out)
