"""Report intake: batches from many sites written in one transaction per ≤100 ms, deduplicated."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.services.site_channel import ReportItem, record_batches

log = logging.getLogger(__name__)
SLOW_WRITE_S = 0.1


class Overloaded(Exception):
    """Too much is waiting to be written: the caller should answer 503 with Retry-After."""


@dataclass
class _Batch:
    site_id: str
    items: Sequence[ReportItem]
    done: asyncio.Future[tuple[int, int]] = field(repr=False)


class ReportIntake:
    """Queues report batches and writes them together; each caller awaits its own result."""

    def __init__(
        self, sessions: sessionmaker[Session], *, max_pending: int, interval: float = 0.1
    ) -> None:
        self._sessions = sessions
        self._max_pending = max_pending
        self._interval = interval
        self._queue: asyncio.Queue[_Batch] = asyncio.Queue()
        self._pending_items = 0
        self._task: asyncio.Task[None] | None = None
        self.written_items = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="report-intake")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def submit(self, site_id: str, items: Sequence[ReportItem]) -> tuple[int, int]:
        if self._pending_items + len(items) > self._max_pending:
            raise Overloaded
        done: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
        self._pending_items += len(items)
        await self._queue.put(_Batch(site_id, items, done))
        return await done

    async def _run(self) -> None:
        while True:
            batches = [await self._queue.get()]
            deadline = asyncio.get_running_loop().time() + self._interval
            while True:
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0:
                    break
                try:
                    batches.append(await asyncio.wait_for(self._queue.get(), timeout))
                except TimeoutError:
                    break
            try:
                results = await asyncio.to_thread(self._write, batches)
            except Exception as exc:  # noqa: BLE001 - every waiter learns of the failure
                log.warning("writing %d report batches failed: %s", len(batches), exc)
                for batch in batches:
                    if not batch.done.done():
                        batch.done.set_exception(exc)
            else:
                for batch, result in zip(batches, results, strict=True):
                    if not batch.done.done():
                        batch.done.set_result(result)
            finally:
                self._pending_items -= sum(len(b.items) for b in batches)

    def _write(self, batches: list[_Batch]) -> list[tuple[int, int]]:
        started = time.perf_counter()
        with self._sessions.begin() as session:
            results = record_batches(session, [(b.site_id, b.items) for b in batches])
        self.written_items += sum(accepted - dupes for accepted, dupes in results)
        elapsed = time.perf_counter() - started
        if elapsed > SLOW_WRITE_S:
            log.info(
                "wrote %d report batches (%d items) in %.0f ms",
                len(batches), sum(len(b.items) for b in batches), elapsed * 1000,
            )  # fmt: skip
        return results
