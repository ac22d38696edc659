"""The Alertmanager receiver (issue 14 §2): a background task of the workers (workers.py) that
posts the central's alarms to Alertmanager's v2 API (`POST /api/v2/alerts`) when
EDGEWISE_ALERTMANAGER_URL is set — every active alarm again each interval (Alertmanager lets
an alert resolve when it stops hearing of it), and each cleared one once with its `endsAt`.
The store is read on a worker thread, in bounded pages; posts have a timeout and bounded
batches; failures are logged and counted, never raised into anything else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import aiohttp
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.tables import aware, utcnow

log = logging.getLogger(__name__)
BATCH: Final = 500  # alerts per POST, and alarms per page read from the store
TIMEOUT_S: Final = 10.0  # one POST, all of it


def alert_of(row: AlarmRow) -> dict[str, Any]:
    """An alarm as an Alertmanager v2 `postableAlert` (pure)."""
    labels = {
        "alertname": row.kind,
        "severity": row.severity.lower(),
        "component": row.component,
        "alarm_id": row.id,
        "managed_object": f"{row.managed_object_type.lower()}:{row.managed_object_id}",
    }
    if row.site_id is not None:
        labels["site"] = row.site_id
    if row.tenant_id is not None:
        labels["tenant"] = row.tenant_id
    alert: dict[str, Any] = {
        "labels": labels,
        "annotations": {
            "summary": f"{row.fault_type}: {row.component}",
            "description": "; ".join(map(str, row.fault_details)) or row.probable_cause,
            "probable_cause": row.probable_cause,
            "root_alarm_id": row.root_alarm_id or "",
        },
        "startsAt": _iso(row.raised_at),
    }
    if row.cleared_at is not None:
        alert["endsAt"] = _iso(row.cleared_at)
    return alert


def active_page(session: Session, after: str, limit: int = BATCH) -> list[dict[str, Any]]:
    """Active alarms with ids after `after`, as alerts (keyset pages: no OFFSET scans)."""
    rows = session.scalars(
        select(AlarmRow)
        .where(AlarmRow.active_key.is_not(None), AlarmRow.id > after)
        .order_by(AlarmRow.id)
        .limit(limit)
    )
    return [alert_of(row) for row in rows]


def cleared_since(
    session: Session, since: datetime, limit: int = BATCH
) -> tuple[list[dict[str, Any]], datetime]:
    """Alarms cleared after `since` (oldest first) as resolved alerts, and the new watermark."""
    rows = list(
        session.scalars(
            select(AlarmRow)
            .where(AlarmRow.cleared_at.is_not(None), AlarmRow.cleared_at > since)
            .order_by(AlarmRow.cleared_at)
            .limit(limit)
        )
    )
    moment = max((aware(r.cleared_at) for r in rows if r.cleared_at is not None), default=since)
    return [alert_of(row) for row in rows], moment


@dataclass
class AlertmanagerSender:
    """Posts alarms to one Alertmanager until cancelled; `sent` and `failed` count alerts."""

    sessions: sessionmaker[Session]
    url: str
    interval: float = 30.0
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # the last few, newest last
    _since: datetime = field(default_factory=utcnow)  # cleared before start: not ours to tell

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                try:
                    await self.send_once(http)
                except Exception:  # the sender outlives a bad pass (store away, ...)
                    log.exception("sending alarms to Alertmanager failed")
                await asyncio.sleep(self.interval)

    async def send_once(self, http: aiohttp.ClientSession) -> None:
        """One pass: newly cleared alarms (the watermark moves only when they were taken),
        then every active alarm, page by page."""
        while True:
            resolved, moment = await asyncio.to_thread(self._read, cleared_since, self._since)
            if not resolved:
                break
            if not await self._post(http, resolved):
                break
            self._since = moment
            if len(resolved) < BATCH:
                break
        after = ""
        while True:
            page = await asyncio.to_thread(self._read, active_page, after)
            if not page or not await self._post(http, page):
                return
            after = page[-1]["labels"]["alarm_id"]
            if len(page) < BATCH:
                return

    def _read(self, query: Any, arg: Any) -> Any:
        with self.sessions() as session:
            return query(session, arg)

    async def _post(self, http: aiohttp.ClientSession, alerts: Sequence[dict[str, Any]]) -> bool:
        target = self.url.rstrip("/") + "/api/v2/alerts"
        try:
            async with http.post(target, json=list(alerts), allow_redirects=False) as answer:
                if 200 <= answer.status < 300:
                    self.sent += len(alerts)
                    return True
                why = f"Alertmanager answered {answer.status}: {(await answer.text())[:200]}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            why = f"Alertmanager at {self.url} cannot be reached: {exc or type(exc).__name__}"
        self.failed += len(alerts)
        self.errors = [*self.errors[-9:], why]
        log.warning("%d alerts not sent: %s", len(alerts), why)
        return False


def _iso(moment: datetime) -> str:
    return aware(moment).isoformat().replace("+00:00", "Z")
