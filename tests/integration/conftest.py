"""Fixtures of the end-to-end tests: one real central (a child process) per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.harness import Central, CentralProcess


@pytest.fixture(scope="session")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    with CentralProcess(tmp_path_factory.mktemp("central")).running() as running:
        yield running


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
