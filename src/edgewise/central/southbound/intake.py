"""Report intake: batches from many sites written in one transaction per ≤100 ms, deduplicated.

When that transaction fails on what it was given (not on the store being away), each batch is
written alone, and a batch that still fails item by item: only the guilty item is refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import exc as db
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.services.alarms_policy import AlarmPolicy
from edgewise.central.services.errors import InputProblem, Invalid
from edgewise.central.services.site_channel import OverlayChange, ReportItem, record_batches

log = logging.getLogger(__name__)
SLOW_WRITE_S = 0.1


class Overloaded(Exception):
    """Too much is waiting to be written: the caller should answer 503 with Retry-After."""


class NotRecorded(Exception):
    """The store could not take the reports now: the caller should answer 503 with Retry-After."""


# The store being away (or busy), not what it was given: everyone retries later.
TEMPORARY = (db.OperationalError, db.InterfaceError, db.DisconnectionError, db.TimeoutError)
Outcome = tuple[int, int] | Exception


@dataclass
class _Batch:
    site_id: str
    items: Sequence[ReportItem]
    done: asyncio.Future[tuple[int, int]] = field(repr=False)


class ReportIntake:
    """Queues report batches and writes them together; each caller awaits its own result."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        max_pending: int,
        interval: float = 0.1,
        on_overlay_change: OverlayChange | None = None,
        alarm_policy: AlarmPolicy | None = None,
    ) -> None:
        self._sessions = sessions
        self._alarm_policy = alarm_policy or AlarmPolicy()
        self._on_overlay_change = on_overlay_change
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
                results = [NotRecorded(str(exc)) for _ in batches]
            finally:
                self._pending_items -= sum(len(b.items) for b in batches)
            for batch, result in zip(batches, results, strict=True):
                if batch.done.done():
                    continue
                if isinstance(result, Exception):
                    batch.done.set_exception(result)
                else:
                    batch.done.set_result(result)

    def _write(self, batches: list[_Batch]) -> list[Outcome]:
        started = time.perf_counter()
        try:
            results: list[Outcome] = list(self._record([(b.site_id, b.items) for b in batches]))
        except TEMPORARY as exc:
            log.warning("the store refused %d report batches: %s", len(batches), exc)
            return [NotRecorded(str(exc)) for _ in batches]
        except Exception as exc:  # noqa: BLE001 - what was given failed: find who, below
            log.warning("writing %d report batches failed (%r): one by one", len(batches), exc)
            results = [self._write_alone(batch) for batch in batches]
        elapsed = time.perf_counter() - started
        if elapsed > SLOW_WRITE_S:
            log.info(
                "wrote %d report batches (%d items) in %.0f ms",
                len(batches), sum(len(b.items) for b in batches), elapsed * 1000,
            )  # fmt: skip
        return results

    def _record(self, batches: Sequence[tuple[str, Sequence[ReportItem]]]) -> list[tuple[int, int]]:
        with self._sessions.begin() as session:
            results = record_batches(session, batches, self._on_overlay_change, self._alarm_policy)
        self.written_items += sum(accepted - dupes for accepted, dupes in results)
        return results

    def _write_alone(self, batch: _Batch) -> Outcome:
        """One site's batch in its own transaction, else item by item: the items that fail
        alone are refused (400, named), the others recorded."""
        try:
            return self._record([(batch.site_id, batch.items)])[0]
        except TEMPORARY as exc:
            return NotRecorded(str(exc))
        except Exception:  # noqa: BLE001, S110 - the items say which, below
            pass
        duplicates = 0
        refused: list[InputProblem] = []
        for index, item in enumerate(batch.items):
            try:
                duplicates += self._record([(batch.site_id, [item])])[0][1]
            except TEMPORARY as exc:
                return NotRecorded(str(exc))
            except Exception as exc:  # noqa: BLE001 - this item is the guilty one
                log.warning("site %s: report %r not recorded: %r", batch.site_id, item.id, exc)
                text = str(exc)[:200].encode(errors="backslashreplace").decode()
                why = f"could not be recorded: {type(exc).__name__}: {text}"
                refused.append(InputProblem(f"items[{index}]", why))
        if refused:
            return Invalid(f"{len(refused)} report(s) refused; the others were recorded", refused)
        return len(batch.items), duplicates
