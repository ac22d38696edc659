"""Fixtures of the sample packages' tests: a lab per test and a work directory that the
programs' own users (frr, proxy, haproxy) may traverse, both removed even on failure."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.samples.csar import SAMPLES
from tests.samples.lab import Lab, why_not

SKIP = why_not()


def need(package: str, *paths: str) -> None:
    """Skips the test when a Debian package's program is missing."""
    for path in paths:
        if shutil.which(path) is None:
            pytest.skip(f"needs the Debian package {package} ({path}); ./run test installs it")


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
def workdir() -> Iterator[Path]:
    made = Path(tempfile.mkdtemp(prefix="edgewise-samples-"))
    made.chmod(0o755)  # pytest's tmp_path is 0700: no way through for a program's own user
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


@pytest.fixture
def samples() -> Path:
    return SAMPLES
