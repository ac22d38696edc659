"""An in-memory central channel for controller tests (the real one is tested in test_uplink)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from edgewise.site.errors import ChannelUnavailable
from edgewise.site.journal import OutboxItem
from edgewise.site.uplink import PolledDesired, ReportReceipt


class FakeChannel:
    """Holds polls briefly like the central; `up = False` makes every call fail temporarily."""

    def __init__(self, hold: float = 0.05) -> None:
        self.up = True
        self.hold = hold
        self.revision = 0
        self.document: Any = None
        self.polled: list[int] = []
        self.reports: dict[str, OutboxItem] = {}
        self.closed = False
        self._changed = asyncio.Event()

    def publish(self, document: Any) -> None:
        self.revision += 1
        self.document = document
        self._changed.set()

    async def poll_desired(self, revision: int) -> PolledDesired | None:
        if not self.up:
            raise ChannelUnavailable("the central is down")
        self.polled.append(revision)
        if revision == self.revision:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), self.hold)
            except TimeoutError:
                return None
        return PolledDesired(self.revision, self.document)

    async def send_reports(self, items: Sequence[OutboxItem]) -> ReportReceipt:
        if not self.up:
            raise ChannelUnavailable("the central is down")
        duplicates = sum(1 for item in items if item.id in self.reports)
        self.reports.update((item.id, item) for item in items)
        return ReportReceipt(len(items), duplicates)

    async def close(self) -> None:
        self.closed = True

    def bodies(self, kind: str) -> list[dict[str, Any]]:
        return [item.body for item in self.reports.values() if item.kind == kind]


async def eventually(check: Callable[[], bool | Awaitable[bool]], within: float = 5.0) -> None:
    """Waits until `check()` holds; fails the test after `within` seconds."""
    async with asyncio.timeout(within):
        while True:
            outcome = check()
            if not isinstance(outcome, bool):
                outcome = await outcome
            if outcome:
                return
            await asyncio.sleep(0.01)
