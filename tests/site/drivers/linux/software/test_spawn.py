"""Hooks and probes run to their end or their timeout inside a namespace (root)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgewise.site.drivers.linux.netns import NamespaceWorker
from edgewise.site.drivers.linux.software.spawn import Spawner
from tests.site.drivers.netlab import can_build_namespaces, ip

SKIP = can_build_namespaces()


@pytest.fixture
def namespace() -> Iterator[str]:
    if SKIP:
        pytest.skip(SKIP)
    name = f"tsw{secrets.token_hex(3)}"
    ip("netns", "add", name)
    try:
        yield name
    finally:
        ip("netns", "del", name, check=False)


def test_a_command_runs_in_the_namespace_and_one_that_overruns_is_killed(
    namespace: str, tmp_path: Path
) -> None:
    worker = NamespaceWorker()
    try:
        spawner = Spawner(worker)
        log = tmp_path / "hooks.log"
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LAN_IF": "x"}
        argv = ["sh", "-c", 'ip -o link; echo "$LAN_IF"']
        code = worker.call(lambda: spawner.run(namespace, argv, env, log, 5))
        assert code == 0
        assert "lo:" in log.read_text()
        assert "eth0" not in log.read_text()  # not the host's interfaces
        assert log.read_text().endswith("x\n")
        started = time.monotonic()
        code = worker.call(lambda: spawner.run(namespace, ["sleep", "30"], env, log, 0.3))
        assert code is None
        assert time.monotonic() - started < 3
        assert worker.call(lambda: spawner.run(namespace, ["sh", "-c", "exit 3"], env, log, 5)) == 3
    finally:
        worker.close()
