"""Fixtures of the sample packages' tests: netlab's site (LAN and WAN namespaces, an internet
host beyond the WAN side), the real linux driver keeping its VNFs in a work directory that the
programs' own users (frr, proxy, haproxy, nobody) may traverse, and the hand-configured peers;
all of it removed even on failure (programs by pid and cgroup, namespaces by name)."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from tests.samples.site import Peers
from tests.site.drivers.linux.software.conftest import stop_software
from tests.site.drivers.netlab import Lab, can_build_namespaces

SKIP = can_build_namespaces()


def need(package: str, *paths: str) -> None:
    """Skips the test when a Debian package's program is missing."""
    for path in paths:
        if shutil.which(path) is None:
            pytest.skip(f"needs the Debian package {package} ({path}); ./run test installs it")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def workdir() -> Iterator[Path]:
    made = Path(tempfile.mkdtemp(prefix="edgewise-samples-"))
    made.chmod(0o755)  # pytest's tmp_path is 0700: no way through for a program's own user
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


@pytest.fixture
def lab() -> Iterator[Lab]:
    if SKIP:
        pytest.skip(SKIP)
    need("bubblewrap", "bwrap")
    made = Lab(prefix="sp" + secrets.token_hex(2))  # sp: the samples' namespaces
    try:
        made.start()
        yield made
    finally:
        made.close()


@pytest.fixture
async def driver(lab: Lab, workdir: Path) -> AsyncIterator[LinuxDriver]:
    made = LinuxDriver(lab.site, workdir / "site")
    try:
        yield made
    finally:
        await made.close()
        stop_software(workdir / "site" / "software")


@pytest.fixture
def peers(lab: Lab, workdir: Path) -> Iterator[Peers]:
    logs = workdir / "peers"
    logs.mkdir()
    made = Peers(lab, logs)
    try:
        yield made
    finally:
        made.close()
