"""Fixtures of the overlay engine's real tests: a lab of namespaces and an engine per test,
every namespace deleted and every wireguard-go ended by pid, even on failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edgewise.site.drivers.linux.wireguard import OverlayEngine
from tests.site.drivers.wireguard.overlab import OverlayLab, overlay_reason

REASON = overlay_reason()


@pytest.fixture
def overlay_lab() -> Iterator[OverlayLab]:
    if REASON:
        pytest.skip(REASON)
    made = OverlayLab()
    try:
        made.start()
        yield made
    finally:
        made.close()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[OverlayEngine]:
    made = OverlayEngine(tmp_path / "run")
    try:
        yield made
    finally:
        for name in made.devices():
            made.processes.stop(name)
        made.close()
