"""Fixtures of the linux driver's tests: a lab of namespaces per test, removed even on failure."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.processes import proc_start_time
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
async def driver(lab: Lab, tmp_path: Path) -> AsyncIterator[LinuxDriver]:
    made = LinuxDriver(lab.site, tmp_path / "run")
    try:
        yield made
    finally:
        await made.close()
        stop_processes(tmp_path / "run")


def stop_processes(runtime_dir: Path) -> None:
    """Kills the programs of process VNFs a failed test left running (they outlive drivers)."""
    for state in runtime_dir.glob("*.json"):
        record = json.loads(state.read_text())
        if proc_start_time(record["pid"]) == record["start_time"]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(record["pid"], signal.SIGKILL)
