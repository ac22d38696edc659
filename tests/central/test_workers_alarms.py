"""The tracker's alarm step (`workers.tracker_steps`): its first pass after the central starts
re-derives the alarms nothing reports and, when that changed the list, tells subscribers to read
it again (AlarmListRebuiltNotification); later passes do not."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from edgewise.central import workers
from edgewise.central.config import CentralSettings
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.services import fault_notifications
from tests.central.services.alarm_world import T0, active, add_sites
from tests.central.services.conftest import World, world

__all__ = ["world"]  # the fixture, shared with the services' tests


@pytest.mark.parametrize("silent", [True, False], ids=["a-site-went-silent", "nothing-changed"])
def test_the_first_sweep_tells_subscribers_when_the_list_changed_while_away(
    world: World, monkeypatch: pytest.MonkeyPatch, silent: bool
) -> None:
    rebuilt: list[Session] = []
    monkeypatch.setattr(fault_notifications, "alarm_list_rebuilt", rebuilt.append)
    now = T0 + timedelta(hours=1)
    monkeypatch.setattr(workers, "utcnow", lambda: now)
    add_sites(world.session, world.acme.tenant_id or "", 1, seen=T0 if silent else now)
    ((step,),) = [
        (step,)
        for step, name in workers.tracker_steps(NsdModels(), CentralSettings())
        if name == "alarms"
    ]
    step(world.session)
    assert len(active(world.session)) == int(silent)
    assert len(rebuilt) == int(silent)
    monkeypatch.setattr(time, "monotonic", lambda: 10**9)  # the next pass is due
    now += timedelta(hours=1)
    step(world.session)  # nothing new to sweep, and it is not the first pass any more
    assert len(rebuilt) == int(silent)
