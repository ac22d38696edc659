"""The third-party VNF tests' fixtures: a lab whose driver keeps its VNFs under the test's own
directory; the programs left running are killed by their cgroups and recorded pids."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.drivers.linux.software.cgroups import CgroupsV1
from edgewise.site.drivers.linux.software.spawn import stop
from edgewise.site.drivers.linux.software.state import load
from tests.site.drivers.netlab import Lab

NEEDED = ("bwrap", "dnsmasq", "dig", "nsenter", "busybox")


@pytest.fixture
def programs() -> None:
    missing = [name for name in NEEDED if shutil.which(name) is None]
    if missing:
        debian = "Debian bubblewrap, dnsmasq-base, dnsutils, busybox"
        pytest.skip(f"needs {', '.join(missing)} ({debian})")


@pytest.fixture
async def swdriver(lab: Lab, tmp_path: Path, programs: None) -> AsyncIterator[LinuxDriver]:
    made = LinuxDriver(lab.site, tmp_path / "run")
    try:
        yield made
    finally:
        await made.close()
        stop_software(tmp_path / "run" / "software")


def stop_software(base: Path) -> None:
    """Stops the programs of third-party VNFs the test left (they outlive drivers), and removes
    their cgroups."""
    for state in base.glob("*/state.json"):
        record = load(state)
        for program in record.programs.values() if record else ():
            if program.pid is not None:
                stop(program.pid, program.start_time)
        CgroupsV1().remove(state.parent.name)
