"""What the alarm tests share: sites made in bulk (enrolled, heard from when the test says), the
notifications the engine sends (recorded), status and event report items."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from edgewise.central.services import fault_notifications
from edgewise.central.services.site_channel import ReportItem, record_batches
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.bulk import table_of
from edgewise.central.store.tables import SiteRow, SiteStatusRow, new_id

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the simulated clock's start
_ids = itertools.count()


@dataclass
class Told:
    """What the engine told `fault_notifications`, by call, as (call, alarm kind, component)."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def of(self, call: str) -> list[tuple[str, str]]:
        return [(kind, name) for what, kind, name in self.calls if what == call]


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> Told:
    record = Told()
    for call in ("alarm_raised", "alarm_changed", "alarm_cleared"):

        def tell(_session: Session, alarm: AlarmRow, call: str = call) -> None:
            record.calls.append((call, alarm.kind, alarm.component))

        monkeypatch.setattr(fault_notifications, call, tell)
    return record


def add_sites(
    session: Session,
    tenant_id: str,
    count: int,
    *,
    seen: datetime | None = T0,
    cert_ends: datetime | None = None,
) -> list[str]:
    """`count` enrolled sites of the tenant (enrolled a day before T0), last heard at `seen`."""
    ids = [new_id() for _ in range(count)]
    enrolled = T0 - timedelta(days=1)
    session.connection().execute(
        insert(table_of(SiteRow)),
        [{"id": site, "tenant_id": tenant_id, "name": f"s{next(_ids)}", "kind": "on-premise",
          "labels": {}, "compute_nodes": 1, "slots_per_node": 2, "description": "",
          "created_at": enrolled, "enrolled_at": enrolled, "cert_serial": f"{n + 1:x}",
          "cert_expires_at": cert_ends or T0 + timedelta(days=365)}
         for n, site in enumerate(ids)],
    )  # fmt: skip
    session.connection().execute(
        insert(table_of(SiteStatusRow)),
        [{"site_id": site, "applied_revision": 0, "state": "converged", "body": {},
          "last_seen_at": seen} for site in ids],
    )  # fmt: skip
    return ids


def active(session: Session, kind: str | None = None) -> list[AlarmRow]:
    query = select(AlarmRow).where(AlarmRow.active_key.is_not(None))
    if kind is not None:
        query = query.where(AlarmRow.kind == kind)
    return list(session.scalars(query.order_by(AlarmRow.component)))


def report(session: Session, site_id: str, *items: ReportItem) -> None:
    record_batches(session, [(site_id, items)])
    session.flush()


def status(at: datetime, **body: Any) -> ReportItem:
    return ReportItem(f"st-{next(_ids)}", "status", at, {"revision": 1, "state": "converged",
                                                          "services": [], **body})  # fmt: skip


def event(at: datetime, **body: Any) -> ReportItem:
    return ReportItem(f"ev-{next(_ids)}", "event", at, body)


def vnfs(service: str, *states: tuple[str, bool]) -> list[dict[str, Any]]:
    """A status's `services` with one service whose VNFs are (name, healthy)."""
    return [{"id": service, "state": "ready" if all(h for _, h in states) else "failed",
             "vnfs": [{"name": name, "function": "firewall", "healthy": healthy,
                       "faults": [] if healthy else ["process-down"], "counters": {}}
                      for name, healthy in states]}]  # fmt: skip


def names(rows: Sequence[AlarmRow]) -> list[tuple[str, str]]:
    return [(row.kind, row.component) for row in rows]
