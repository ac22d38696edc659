"""The Alertmanager sender against a recording receiver on loopback: every active alarm on every
pass, each cleared one once with its endsAt, in bounded pages; labels as Alertmanager groups
them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.services import alarms_alertmanager
from edgewise.central.services.alarm_terms import Kind, ManagedObject, component
from edgewise.central.services.alarms import Fault, clear_keys, raise_faults
from edgewise.central.services.alarms_alertmanager import AlertmanagerSender
from edgewise.central.store.engine import migrate, open_engine, session_factory
from edgewise.central.store.tables import utcnow


def failed(op: str) -> Fault:
    return Fault(Kind.OPERATION_FAILED, component(operation=op), ManagedObject.NS, "ns-1",
                 fault_details=(f"{op} failed",))  # fmt: skip


async def passes(sessions: sessionmaker[Session], steps: list[Any]) -> list[list[dict[str, Any]]]:
    """Runs `steps` (store changes, or None for a sender pass) against a recording receiver;
    returns what each pass posted."""
    posted: list[list[dict[str, Any]]] = []

    async def receive(request: web.Request) -> web.Response:
        posted[-1].extend(await request.json())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/api/v2/alerts", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sender = AlertmanagerSender(sessions, f"http://127.0.0.1:{port}")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            for step in steps:
                if step is None:
                    posted.append([])
                    await sender.send_once(http)
                else:
                    with sessions.begin() as session:
                        step(session)
    finally:
        await runner.cleanup()
    return posted


def test_active_alarms_every_pass_and_cleared_ones_once(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(alarms_alertmanager, "BATCH", 2)  # pages of two: three alarms, two pages
    engine = open_engine(f"sqlite:///{tmp_path / 'edgewise.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    later = utcnow() + timedelta(seconds=1)
    steps = [
        lambda s: raise_faults(s, [failed("a"), failed("b"), failed("c")], later),
        None,
        lambda s: clear_keys(s, [failed("b").key], later + timedelta(seconds=1)),
        None,
        None,
    ]
    first, second, third = asyncio.run(passes(sessions, steps))
    engine.dispose()

    def names(alerts: list[dict[str, Any]]) -> list[tuple[str, bool]]:
        return sorted((a["labels"]["component"], "endsAt" in a) for a in alerts)

    assert names(first) == [("operation:a", False), ("operation:b", False), ("operation:c", False)]
    assert names(second) == [("operation:a", False), ("operation:b", True), ("operation:c", False)]
    assert names(third) == [("operation:a", False), ("operation:c", False)]
    alert = next(a for a in first if a["labels"]["component"] == "operation:a")
    assert alert["labels"]["alertname"] == "OPERATION_FAILED"
    assert alert["labels"]["severity"] == "major"
    assert alert["labels"]["managed_object"] == "ns:ns-1"
    assert alert["annotations"]["description"] == "a failed"
    assert alert["startsAt"].endswith("Z")
