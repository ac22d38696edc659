"""Fixtures of the linux driver's tests: a lab of namespaces per test, removed even on failure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from tests.site.drivers.netlab import Lab, can_build_namespaces, stop_processes
from tests.site.drivers.wanlab import WanLab

SKIP = can_build_namespaces()


@pytest.fixture
def lab() -> Iterator[Lab]:
    if SKIP:
        pytest.skip(SKIP)
    made = Lab()
    try:
        made.start()
        yield made
    finally:
        made.close()


@pytest.fixture
def wanlab() -> Iterator[WanLab]:
    """A site with three WAN links to a data centre (wanlab.py), removed even on failure."""
    if SKIP:
        pytest.skip(SKIP)
    made = WanLab()
    try:
        made.start()
        yield made
    finally:
        made.close()


@pytest.fixture
async def driver(lab: Lab, tmp_path: Path) -> AsyncIterator[LinuxDriver]:
    made = LinuxDriver(lab.site, tmp_path / "run")
    try:
        yield made
    finally:
        await made.close()
        stop_processes(tmp_path / "run")
