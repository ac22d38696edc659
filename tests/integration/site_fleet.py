"""A test helper process: runs N real `SiteController`s (sim driver) from enrolled journals.

`python site_fleet.py --latency S JOURNAL...` runs until SIGTERM; it then waits (bounded) for
every outbox to drain, stops the controllers and exits 0, or 3 when some outbox did not drain.
It writes the `--ready` file once every controller has started.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from pathlib import Path

from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.journal import Journal
from edgewise.site.uplink import Uplink

DRAIN_TIMEOUT = 20.0


async def run(journals: list[Path], latency: float, ready: Path) -> int:
    settings = ControllerSettings(
        reconcile_interval=1.0,
        first_poll_max_delay=0.5,
        backoff_base=0.2,
        backoff_cap=2.0,
        keep_sent_reports=100_000,  # the test counts every item ever sent
    )
    controllers: list[SiteController] = []
    for index, path in enumerate(journals):
        journal = Journal.open(path)
        identity = journal.identity()
        if identity is None:
            journal.close()
            raise SystemExit(f"{path}: not enrolled")
        driver = SimDriver(latency=latency, seed=index)
        controllers.append(SiteController(journal, driver, Uplink(identity), settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    for controller in controllers:
        await controller.start()
    await asyncio.to_thread(ready.write_text, str(len(controllers)))
    await stop.wait()
    deadline = time.monotonic() + DRAIN_TIMEOUT
    drained = False
    while not drained and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        drained = not any(c.journal.pending_count() for c in controllers)
    await asyncio.gather(*(c.stop() for c in controllers), return_exceptions=True)
    return 0 if drained else 3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("journals", type=Path, nargs="+")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    sys.exit(asyncio.run(run(args.journals, args.latency, args.ready)))


if __name__ == "__main__":
    main()
