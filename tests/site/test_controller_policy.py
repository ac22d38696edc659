"""The controller ticks a driver's real-time policy every second and at once on a new desired
state, with or without a central; the events go in the outbox; a failed tick is retried."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edgewise.model.desired import DesiredState
from edgewise.site.controller import ControllerSettings, SiteController
from edgewise.site.drivers.sim import SimDriver
from edgewise.site.journal import Journal
from edgewise.site.reconcile import ObservedState
from tests.site.fakes import eventually

pytestmark = pytest.mark.anyio
SLOW = ControllerSettings(reconcile_interval=60.0, first_poll_max_delay=0.0, seed=1)


class PolicyDriver(SimDriver):
    """The sim driver, recording each policy tick; the first two raise, the others tell one
    event."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks: list[tuple[int, bool]] = []

    async def enforce_policy(
        self, desired: DesiredState, observed: ObservedState | None
    ) -> list[dict[str, Any]]:
        self.ticks.append((desired.revision, observed is not None))
        if len(self.ticks) <= 2:
            raise RuntimeError("the first ticks fail")
        return [{"event": "policy-triggered", "rule": "r", "tick": len(self.ticks)}]


async def test_policy_ticks_at_once_then_every_second_without_a_central(tmp_path: Path) -> None:
    driver = PolicyDriver()
    site = SiteController(Journal.open(tmp_path / "journal.db"), driver, None, SLOW)
    async with site:
        site.accept(1, {"services": []})
        await eventually(lambda: len(driver.ticks) >= 1, within=0.5)  # at once, not in 1 s
        await eventually(lambda: len(driver.ticks) >= 4, within=4.0)  # then every second

        told = [i.body for i in site.journal.pending(100)
                if str(i.body.get("event")).startswith("policy-")]  # fmt: skip
    assert [t["event"] for t in told][:2] == ["policy-failed", "policy-triggered"]  # told once
    assert told[0]["detail"] == "the first ticks fail"
    assert [t["tick"] for t in told[1:3]] == [3, 4]
    assert driver.ticks[0][0] == 1
    assert driver.ticks[-1] == (1, True)  # with the last reconcile pass's observation
