"""Where every lab run starts: a central manager as a child process on loopback ports
(`edgewise server`, embedded SQLite store), until the run ends."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from edgewise.lab.errors import LabError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_central(
    data_dir: Path,
    port: int,
    *,
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Runs `edgewise server` as a child process on loopback ports until the block ends.

    The southbound listener takes any free port; `GET /api/v1/central` tells which.
    """
    url = f"http://127.0.0.1:{port}/"
    child_env = dict(os.environ, EDGEWISE_DATA_DIR=str(data_dir))
    child_env.pop("EDGEWISE_DATABASE_URL", None)
    child_env.update(env or {})
    log = (data_dir / "central.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "edgewise", "server", "--port", str(port), "--southbound-port", "0"],
        env=child_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise LabError(f"the central exited at start-up; see {data_dir / 'central.log'}")
            try:
                if httpx.get(f"{url}health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise LabError(f"the central did not answer within {timeout:.0f} s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
