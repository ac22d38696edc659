"""Shared by the channel benchmarks: a central as a child process on fixed ports, /proc
readings of a process (peak and current RSS, CPU time), and the console they print on.

The ports stay the same across a `kill -9` and restart, so enrolled sites find it again.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console

from edgewise.lab.central import free_port
from edgewise.lab.errors import LabError
from edgewise.lab.simulator.worker import raise_fd_limit

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
console = Console()
# Prototypes of central-side fixes, applied at start-up without changing src/ (see --central):
#   sslbuf: asyncio's SSLProtocol allocates and zero-fills a 256 KiB read buffer per TLS
#           connection (asyncio/sslproto.py, max_size); 32 KiB is two TLS records.
#   uvloop: the central's event loop is uvloop (its TLS buffer is malloc'd, not zero-filled).
VARIANTS = {
    "stock": "",
    "sslbuf": "import asyncio.sslproto; asyncio.sslproto.SSLProtocol.max_size = 32 * 1024\n",
    "uvloop": "import asyncio, uvloop; asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())\n",
}
BOOT = "import sys\n{patch}from edgewise.cli.main import main\nsys.argv[0] = 'edgewise'\nmain()\n"


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM, ... of a process in KiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            values[key] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Central:
    """`edgewise server` on a fresh or given data directory, API and southbound ports fixed."""

    def __init__(
        self, data_dir: Path, *, env: dict[str, str] | None = None, variant: str = "stock"
    ) -> None:
        self.data_dir = data_dir
        self.variant = variant
        self.api_port = free_port()
        self.southbound_port = free_port()
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"central-{self.starts}.log"

    def token(self) -> str:
        return (self.data_dir / "admin.token").read_text().strip()

    def start(self, timeout: float = 60.0) -> float:
        """Starts it and waits until the API answers; returns how long that took."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        env = dict(os.environ, EDGEWISE_DATA_DIR=str(self.data_dir))
        env.pop("EDGEWISE_DATABASE_URL", None)  # SQLite in data_dir unless `env` names a store
        env.update(self.env)
        entry = ["-m", "edgewise"]
        if self.variant != "stock":
            entry = ["-c", BOOT.format(patch=VARIANTS[self.variant])]
        command = [sys.executable, *entry, "server", "--port", str(self.api_port),
                   "--southbound-port", str(self.southbound_port)]  # fmt: skip
        started = time.monotonic()
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the central exited at start-up; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}health", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the central did not answer within {timeout:.0f} s")

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_problems(self) -> dict[str, int]:
        """ERROR / Traceback / WARNING lines in the current log."""
        text = self.log_path.read_text(errors="replace")
        return {word: text.count(word) for word in ("Traceback", " ERROR ", " WARNING ")}


def guarded(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Runs a benchmark with the open-file limit raised; a LabError is one line and exit 1."""
    raise_fd_limit()
    try:
        return run(args)
    except LabError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
