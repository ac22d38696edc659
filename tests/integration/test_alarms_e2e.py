"""Alarms from what real sites report, end to end over real processes (alarms_real.py): a real
central and a real linux site controller in namespaces; a WAN link's carrier lost, a process
VNF killed with its restart failing, the site controller SIGKILLed, each raising its alarm in
GET /nsfm/v1/alarms within its bound and clearing it once mended; the latencies printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.alarms_real import measure
from tests.site.drivers.netlab import can_build_namespaces

pytestmark = pytest.mark.slow


def test_real_sites_raise_and_clear_alarms(tmp_path: Path) -> None:
    why = can_build_namespaces()
    if why:
        pytest.skip(why)
    figures = measure(tmp_path)
    print("\nfrom the fault to the alarm in GET /nsfm/v1/alarms: " + ", ".join(
        f"{name} {value:.0f} B" if "bytes" in name else f"{name} {value:.2f} s"
        for name, value in figures.items()))  # fmt: skip
