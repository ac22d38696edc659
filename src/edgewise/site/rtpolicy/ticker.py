"""The controller's real-time policy loop: a driver that runs the rules (`EnforcesPolicy`) is
ticked every POLICY_PERIOD, and at once on a new desired state, central or not; the events of
each evaluation are handed to the controller (its outbox)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from edgewise.model.desired import DesiredState
from edgewise.site.drivers.base import EnforcesPolicy
from edgewise.site.reconcile import ObservedState

log = logging.getLogger(__name__)
POLICY_PERIOD = 1.0  # s between evaluations of the real-time policy rules
Seen = Callable[[], tuple[DesiredState | None, ObservedState | None]]


class PolicyTicker:
    """`seen()` gives the desired state and the last reconcile pass's observation; `tell`
    takes each event."""

    def __init__(
        self, driver: EnforcesPolicy, seen: Seen, tell: Callable[[dict[str, Any]], None]
    ) -> None:
        self._driver = driver
        self._seen = seen
        self._tell = tell
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """A new desired state: evaluate its rules now."""
        self._woken.set()

    async def run(self) -> None:
        """Evaluates until cancelled; a failed evaluation is logged and told once per distinct
        failure (not every second), and the next one tries again."""
        failed: str | None = None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), POLICY_PERIOD)
            self._woken.clear()
            desired, observed = self._seen()
            if desired is None:
                continue
            try:
                events = await self._driver.enforce_policy(desired, observed)
            except Exception as exc:
                if str(exc) != failed:
                    failed = str(exc)
                    log.exception("real-time policy evaluation failed")
                    self._tell({"event": "policy-failed", "detail": failed[:1000]})
                continue
            failed = None
            for event in events:
                self._tell(event)


def ticker_for(
    driver: object, seen: Seen, tell: Callable[[dict[str, Any]], None]
) -> PolicyTicker | None:
    """The ticker of a driver that runs real-time policy; None for one that does not."""
    return PolicyTicker(driver, seen, tell) if isinstance(driver, EnforcesPolicy) else None
