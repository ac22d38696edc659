"""Fixtures for the descriptor loader tests: corpus and sample locations, a fresh cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewise.lab import samples
from edgewise.tosca import TypeCache

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / ".." / "shared" / "corpus" / "sol001"
DATA = Path(__file__).resolve().parent / "data"
SAMPLES = samples.path()


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the SOL001 corpus is not at {CORPUS} (it lives beside the repository)")
    return CORPUS


@pytest.fixture
def cache() -> TypeCache:
    return TypeCache()
