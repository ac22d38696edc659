"""'Heard from' marks (presence.LastSeen, site_channel.touch): a mark carries when the site was
heard, however late it is written; a write that fails is retried with the same time; a later
mark already in the store is never moved back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.services import site_channel
from edgewise.central.southbound.presence import LastSeen
from edgewise.central.store.tables import SiteStatusRow, aware
from tests.central.services.alarm_world import T0, add_sites
from tests.central.services.conftest import World, world

__all__ = ["world"]  # the fixture, shared with the services' tests


def seen(session: Session, site_id: str) -> Any:
    moment = session.scalar(select(SiteStatusRow.last_seen_at)
                            .where(SiteStatusRow.site_id == site_id))  # fmt: skip
    return None if moment is None else aware(moment)


@pytest.mark.anyio
async def test_a_mark_written_late_or_retried_keeps_the_time_the_site_was_heard(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    (site,) = add_sites(world.session, world.acme.tenant_id or "", 1, seen=None)
    world.session.commit()
    sessions = sessionmaker(bind=world.session.get_bind())
    last_seen = LastSeen(sessions)
    heard = T0 + timedelta(hours=1, microseconds=250_000)
    last_seen.saw(site, heard)
    real_touch, calls = site_channel.touch, [0]

    def failing_once(*args: Any) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("the store is busy")
        real_touch(*args)

    monkeypatch.setattr(site_channel, "touch", failing_once)
    await last_seen.flush()  # fails: the mark waits for the next flush
    world.session.expire_all()
    assert seen(world.session, site) is None
    await last_seen.flush()  # written now, with the time it was heard (to the second)
    world.session.expire_all()
    assert seen(world.session, site) == heard.replace(microsecond=0)
    site_channel.touch(world.session, [site], heard - timedelta(minutes=1))  # an older mark
    assert seen(world.session, site) == heard.replace(microsecond=0)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
