"""Smoke run of the telemetry store benchmark on each store: it writes simulated reports through
the real intake path and rollup, and prints its figures. Nothing here asserts a duration."""

from __future__ import annotations

import re

import pytest

from tests.benchmarks.test_channel_smoke import bench

pytestmark = pytest.mark.slow


def test_telemetry_store_prints_its_figures(database_url: str) -> None:
    args = ["--sites", "3", "--minutes", "90", "--intake-sites", "20", "--rounds", "1"]
    if database_url.startswith("postgresql"):
        args += ["--database-url", database_url]
    out = bench("telemetry_store", *args)
    label = r"\[3 sites x 4 links, 90 min, (sqlite|postgresql)\]"
    assert re.search(rf"{label} 60-second buckets: 1080 rows", out), out
    assert re.search(rf"{label} 3600-second buckets: 24 rows", out), out  # 2 hours x 3 x 4
    assert re.search(rf"{label} 86400-second buckets: 12 rows", out), out
    assert re.search(rf"{label} link_history: \d+ bytes, 1116 rows, \d+ bytes per row \(", out)
    assert re.search(rf"{label} steady state per site .*: \d+ rows, [\d.]+ MiB", out), out
    for what in ("with history", "without history"):
        assert re.search(rf"\[20 sites x 4 links, \w+\] intake .*, {what}: \d+ ms a batch", out)
