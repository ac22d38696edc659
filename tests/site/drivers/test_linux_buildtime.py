"""Smoke version of the build-time benchmark: a few 2-VNF builds until traffic flows."""

from __future__ import annotations

import pytest

from tests.site.drivers.buildtime import measure_build_times
from tests.site.drivers.conftest import SKIP


@pytest.mark.skipif(SKIP is not None, reason=SKIP or "")
def test_a_two_vnf_chain_carries_traffic_soon_after_its_desired_state(
    capsys: pytest.CaptureFixture[str],
) -> None:
    times = measure_build_times(runs=5)
    with capsys.disabled():
        print(f"\n{times}")

    assert len(times.runs) == 5
    assert times.p50 < 1000  # the goal is 100 ms (benchmark); this only catches a regression
