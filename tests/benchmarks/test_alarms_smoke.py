"""Smoke run of the alarms benchmark: link-down latency, sites going offline at once without a
storm, the figures printed, every notification the phase wrote delivered to the benchmark's
loopback subscriber.

A measurement, not a timed test: nothing here asserts a duration.
"""

from __future__ import annotations

import re

import pytest

from tests.benchmarks.test_channel_smoke import bench

pytestmark = pytest.mark.slow


def test_alarms_prints_its_figures() -> None:
    out = bench("alarms", "--sites", "12", "--links", "2", "--timeout", "90", timeout=240)
    assert re.search(r"link down -> LINK_DOWN in the store p50/max: [\d.]+ / [\d.]+ s \(2 ", out)
    assert re.search(r"\[12 sites\] silent -> SITE_OFFLINE in the store p50/max: [\d.]+ / ", out)
    assert "[12 sites] alarms raised by the phase: 12 (SITE_OFFLINE 12); roots: 12" in out
    assert re.search(
        r"link down -> LINK_DOWN in GET /nsfm/v1/alarms p50/max: [\d.]+ / [\d.]+ s", out
    )
    assert re.search(
        r"\[12 sites\] silent -> SITE_OFFLINE in GET /nsfm/v1/alarms p50/max: [\d.]+ ", out
    )
    assert re.search(
        r"\[12 sites\] notifications written to the outbox: 12; delivered to the subscriber: 12 "
        r"\(12 AlarmNotifications of SITE_OFFLINE\); the last [\d.]+ s after the silence",
        out,
    )
