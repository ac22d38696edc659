"""Fixtures of the linux driver's tests: a lab of namespaces per test, removed even on failure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from tests.site.drivers.netlab import Lab, can_build_namespaces

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
async def driver(lab: Lab) -> AsyncIterator[LinuxDriver]:
    made = LinuxDriver(lab.site)
    try:
        yield made
    finally:
        await made.close()
