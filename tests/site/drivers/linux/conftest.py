"""Fixtures of the linux driver's fast tests: the driver over a kernel in memory (no root)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edgewise.site.drivers.linux import LinuxDriver, SiteNetwork
from edgewise.site.drivers.linux.fakekernel import FakeKernel

SITE = SiteNetwork("ew", "ew-lan", "ew-wan")


@pytest.fixture
def kernel() -> FakeKernel:
    return FakeKernel(SITE.lan_netns, SITE.wan_netns)


@pytest.fixture
async def driver(kernel: FakeKernel, tmp_path: Path) -> AsyncIterator[LinuxDriver]:
    made = LinuxDriver(SITE, tmp_path / "run", kernel=kernel)
    try:
        yield made
    finally:
        await made.close()
