"""The parent side of `edgewise simulate`: the worker processes running the simulated sites.

`Fleet` launches the worker processes (`worker`), each with its share of the sites, and merges
what they stream back (enrolled, started, polling; when each site received, reported and had
acknowledged each revision; requests, connections and errors); `simulation` drives it, and the
channel benchmarks too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import Progress

from edgewise.lab.errors import LabError, PhaseTimeout
from edgewise.lab.simulator.worker import BUCKET

ENROLL_CONCURRENCY = 64  # in flight across all workers: the central signs each certificate
SITES_PER_WORKER = 3000  # x (3 journal files + 2 sockets) stays under 20,000 open files
WORKER_NICE = 5  # the central (what is measured) gets the CPU it asks for before the sites
WORKER_ENTRY = "from edgewise.lab.simulator.worker import worker_main; worker_main()"


def default_workers(sites: int) -> int:
    return max(1, math.ceil(sites / SITES_PER_WORKER))


@dataclass
class Fleet:
    """Worker processes running the simulated sites, and what they report, merged."""

    work: Path
    uvloop: bool = True
    nice: int = WORKER_NICE
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)
    enrolled: dict[int, int] = field(default_factory=dict)
    started: dict[int, int] = field(default_factory=dict)
    polling: dict[str, float] = field(default_factory=dict)  # last poll sent, per site
    first_polls: dict[str, float] = field(default_factory=dict)  # first since `polls_since`
    _polls_since: float | None = None
    received: dict[int, dict[str, float]] = field(default_factory=dict)
    reporting: dict[int, dict[str, float]] = field(default_factory=dict)  # first status sent
    done: dict[int, dict[str, float]] = field(default_factory=dict)
    requests: Counter[int] = field(default_factory=Counter)
    connections: Counter[int] = field(default_factory=Counter)  # opened, per bucket
    errors: Counter[str] = field(default_factory=Counter)
    last_error: dict[str, tuple[str, float]] = field(default_factory=dict)  # per site
    failure: str | None = None
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def launch(
        self,
        southbound: str,
        ca_pem: str,
        sites: Sequence[tuple[str, str]],
        *,
        workers: int,
        latency: float,
        seed: int,
        first_poll_max_delay: float,
        start_rate: float,
    ) -> None:
        shares = [list(sites[i::workers]) for i in range(workers)]
        concurrency = max(1, ENROLL_CONCURRENCY // workers)
        for index, share in enumerate(shares):
            config = {
                "southbound": southbound, "ca": ca_pem, "sites": share, "work": str(self.work),
                "latency": latency, "seed": seed + index * len(sites),
                "enrollConcurrency": concurrency, "firstPollMaxDelay": first_poll_max_delay,
                "log": str(self.work / f"worker-{index}.log"), "uvloop": self.uvloop,
                "startRate": start_rate / workers, "nice": self.nice,
            }  # fmt: skip
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                WORKER_ENTRY,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=64 * 1024 * 1024,
            )
            assert process.stdin is not None
            process.stdin.write(json.dumps(config).encode() + b"\n")
            await process.stdin.drain()
            self.processes.append(process)
            self._readers.append(asyncio.create_task(self._read(index, process)))

    async def _read(self, index: int, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            message = json.loads(line)
            if "fatal" in message:
                self.failure = f"worker {index}: {message['fatal']} (see {self._log(index)})"
            if "enrolled" in message:
                self.enrolled[index] = message["enrolled"]
                self.started[index] = message["started"]
            for kind, site_id, revision, at in message.get("events", ()):
                if kind == "polling":
                    self.polling[site_id] = at
                    if self._polls_since is not None and at > self._polls_since:
                        self.first_polls.setdefault(site_id, at)
                else:
                    seen = {"received": self.received, "reporting": self.reporting}.get(
                        kind, self.done
                    )
                    seen.setdefault(revision, {}).setdefault(site_id, at)
            self.requests.update({int(k): v for k, v in message.get("requests", {}).items()})
            self.connections.update({int(k): v for k, v in message.get("connections", {}).items()})
            self.errors.update(message.get("errors", {}))
            for site_id, (error, at) in message.get("lastErrors", {}).items():
                self.last_error[site_id] = (error, at)
        code = await process.wait()
        if code != 0 and self.failure is None:
            self.failure = f"worker {index} exited with status {code} (see {self._log(index)})"

    def _log(self, index: int) -> Path:
        return self.work / f"worker-{index}.log"

    def polls_since(self, moment: float) -> None:
        """From now on, `first_polls` holds each site's first poll sent after `moment`."""
        self._polls_since = moment
        self.first_polls = {}

    def requests_between(self, start: float, end: float) -> int:
        return sum(n for b, n in self.requests.items() if start <= b * BUCKET < end)

    def connections_between(self, start: float, end: float) -> int:
        return sum(n for b, n in self.connections.items() if start <= b * BUCKET < end)

    async def wait_for(
        self,
        progress: Progress,
        description: str,
        total: int,
        count: Callable[[], int],
        within: float,
    ) -> None:
        """Shows `count()` against `total` until it is reached; a clear error after `within` s."""
        task = progress.add_task(description, total=total)
        deadline = time.monotonic() + within
        while (done := count()) < total:
            progress.update(task, completed=done)
            if self.failure:
                raise LabError(self.failure)
            if time.monotonic() > deadline:
                raise PhaseTimeout(
                    f"{description}: only {done}/{total} after {within:.0f} s", done, total
                )
            await asyncio.sleep(0.1)
        progress.update(task, completed=total)

    async def stop(self, within: float = 60) -> None:
        for process in self.processes:
            if process.stdin is not None and not process.stdin.is_closing():
                process.stdin.write(b"stop\n")
                with contextlib.suppress(ConnectionError):
                    await process.stdin.drain()
                process.stdin.close()
        try:
            async with asyncio.timeout(within):
                await asyncio.gather(*self._readers, return_exceptions=True)
        except TimeoutError:
            for process in self.processes:
                if process.returncode is None:
                    process.kill()  # our own worker, by its process handle
            await asyncio.gather(*(p.wait() for p in self.processes))
