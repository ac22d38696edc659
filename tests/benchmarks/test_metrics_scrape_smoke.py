"""Smoke run of the /metrics scrape benchmark on each store: a real central over a bulk-filled
store, scraped with the bound under and over the sites reporting. Nothing asserts a duration."""

from __future__ import annotations

import re

import pytest

from tests.benchmarks.test_channel_smoke import bench

pytestmark = pytest.mark.slow


def test_metrics_scrape_prints_its_figures(database_url: str) -> None:
    args = ["--sites", "40", "--links", "2", "--scrapes", "2", "--bounds", "10", "40"]
    if database_url.startswith("postgresql"):
        args += ["--database-url", database_url]
    out = bench("metrics_scrape", *args)
    label = r"\[40 sites x 2 links, (sqlite|postgresql), EDGEWISE_METRICS_SITE_SERIES="
    assert re.search(rf"{label}10: over\] scrape p50/p99/max: \d+ / \d+ / \d+ ms \(2 ", out), out
    assert re.search(rf"{label}10: over\] body: \d+ bytes, \d+ series, per-site series not ", out)
    # 80 links: 4 link series each (every link has figures), classes on 10 sites' 20 links
    # (4 classes x 2), VNFs on 20 sites (fw rules: 2, shaper queues: 3)
    series = re.search(rf"{label}40: under\] body: \d+ bytes, (\d+) series, per-site series e", out)
    assert series, out
    over = re.search(rf"{label}10: over\] body: \d+ bytes, (\d+) series", out)
    assert over
    assert int(series[2]) - int(over[2]) == 80 * 4 + 20 * 4 * 2 + 20 * 5
    assert re.search(rf"{label}40: under\] central CPU per scrape: \d+ ms", out)
