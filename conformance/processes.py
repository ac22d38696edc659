"""The processes a conformance run starts — the central and the sites' controllers — each
started with the project's own interpreter, awaited with a deadline and stopped by its PID."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from conformance.errors import SetupError

STOP_GRACE = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Child:
    """A started process and its log file; `stop` ends it by PID and closes the log."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_GRACE)
        self.log.close()


@dataclass
class Processes:
    """Every process of the run, stopped in reverse order of start."""

    python: Path  # the project's interpreter
    work: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Child:
        log_path = self.work / f"{name}.log"
        log = log_path.open("wb")
        process = subprocess.Popen(  # noqa: S603 - the project's interpreter, our own arguments
            [str(self.python), "-m", "edgewise", *args],
            env=dict(os.environ, **(env or {})),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        child = Child(name, process, log_path, log)
        self.children.append(child)
        return child

    def run(self, args: list[str], timeout: float) -> str:
        """Runs `edgewise ARGS` to its end; its output, or a SetupError naming what failed."""
        try:
            done = subprocess.run(  # noqa: S603 - the project's interpreter, our own arguments
                [str(self.python), "-m", "edgewise", *args],
                capture_output=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise SetupError(
                f"'edgewise {args[0]} {args[1]}' took more than {timeout:.0f} s"
            ) from exc
        output = (done.stdout + done.stderr).decode(errors="replace").strip()
        if done.returncode:
            raise SetupError(f"'edgewise {args[0]} {args[1]}' failed: {output[-300:]}")
        return output

    def run_module(self, module: str, args: list[str], stdin: str, timeout: float) -> str:
        """Runs `python -m MODULE ARGS` with the project's interpreter (from the repository's
        root, where `conformance` is), `stdin` as its input; its output, or a SetupError."""
        try:
            done = subprocess.run(  # noqa: S603 - the project's interpreter, our own module
                [str(self.python), "-m", module, *args],
                input=stdin.encode(),
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise SetupError(f"'python -m {module}' took more than {timeout:.0f} s") from exc
        if done.returncode:
            output = (done.stdout + done.stderr).decode(errors="replace").strip()
            raise SetupError(f"'python -m {module}' failed: {output[-300:]}")
        return done.stdout.decode()

    def start_central(
        self, data_dir: Path, env: dict[str, str], timeout: float = 30.0
    ) -> tuple[str, Child]:
        """`edgewise server` on a free loopback port with a fresh store; returns once healthy.
        The suites' callbacks and package server listen on loopback: the central may fetch
        from there (EDGEWISE_FETCH_ALLOW), which a production central refuses."""
        port = free_port()
        env = env | {
            "EDGEWISE_DATA_DIR": str(data_dir),
            "EDGEWISE_DATABASE_URL": "",
            "EDGEWISE_FETCH_ALLOW": "127.0.0.0/8,::1/128",
        }
        child = self.start(
            "central", ["server", "--port", str(port), "--southbound-port", "0"], env
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if not child.running():
                raise SetupError(f"the central exited at start-up; see {child.log_path}")
            if time.monotonic() > deadline:
                raise SetupError(f"the central did not answer GET /health within {timeout:.0f} s")
            time.sleep(0.1)
        return url, child

    def stop_all(self) -> None:
        for child in reversed(self.children):
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                child.stop()
        self.children.clear()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:  # noqa: S310 - loopback
            return bool(json.load(answer).get("status") == "ok")
    except (OSError, ValueError, urllib.error.URLError):
        return False
