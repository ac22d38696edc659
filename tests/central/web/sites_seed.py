"""Seeding the console's tests: tenants and sites through the API, then presence, sync state,
alarms, operations and link history written into the central's store (what site controllers
and the alarm engine would have written), so a page's figures can be checked exactly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from edgewise.central.services import telemetry
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.tables import (
    DesiredStateRow,
    NsLcmOpOccRow,
    RolloutRow,
    RolloutSiteRow,
    SiteEventRow,
    SiteRow,
    SiteStatusRow,
)
from tests.central.web.conftest import Portal


@contextmanager
def store(data_dir: Path) -> Iterator[Session]:
    """A session on the embedded central's SQLite file (committed at the end)."""
    engine = create_engine(f"sqlite:///{(data_dir / 'edgewise.db').resolve()}")
    try:
        with Session(engine) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def tenant(portal: Portal, name: str) -> str:
    made = portal.client.post("/api/v1/tenants", json={"name": name}, headers=portal.admin.headers)
    assert made.status_code == 201, made.text
    tenant_id: str = made.json()["id"]
    return tenant_id


def sites(portal: Portal, tenant_id: str, names: list[str], **extra: Any) -> list[str]:
    body = {"sites": [{"name": n, "kind": "on-premise", "tenantId": tenant_id} | extra
                      for n in names]}  # fmt: skip
    made = portal.client.post("/api/v1/sites/batch", json=body, headers=portal.admin.headers)
    assert made.status_code == 201, made.text
    return [s["site"]["id"] if "site" in s else s["id"] for s in made.json()]


def set_state(
    session: Session,
    site_id: str,
    *,
    seen_ago: timedelta | None,
    state: str = "converged",
    desired: int = 0,
    applied: int = 0,
) -> None:
    """The site enrolled and last heard `seen_ago` (None: never enrolled), at `applied`
    against `desired`, saying `state`."""
    if seen_ago is None:
        return
    now = datetime.now(UTC)
    row = session.get(SiteRow, site_id)
    assert row is not None
    row.enrolled_at = now - seen_ago
    row.cert_serial = f"serial-{site_id[:8]}"
    session.add(SiteStatusRow(site_id=site_id, applied_revision=applied, state=state,
                              reported_at=now - seen_ago, last_seen_at=now - seen_ago))  # fmt: skip
    if desired:
        session.merge(DesiredStateRow(site_id=site_id, revision=desired, document={}))


def alarm(
    session: Session, tenant_id: str, site_id: str, severity: str, *, root: bool, offline: bool
) -> None:
    """An active alarm: the site's SITE_OFFLINE when `offline` (the one the alarm engine would
    raise for an offline site, so it raises no second one), else a VNF's (which the engine
    leaves alone: no site reports that VNF)."""
    kind = "SITE_OFFLINE" if offline else "VNF_DOWN"
    component = f"site:{site_id}" if offline else f"site:{site_id}/vnf:ns/{severity.lower()}"
    session.add(AlarmRow(
        kind=kind, component=component, active_key=f"{kind}|{component}",
        tenant_id=tenant_id, site_id=site_id, managed_object_type="SITE",
        managed_object_id=site_id, severity=severity, event_type="COMMUNICATIONS_ALARM",
        probable_cause="test", fault_type="test", is_root_cause=root,
        raised_at=datetime.now(UTC), changed_at=datetime.now(UTC),
    ))  # fmt: skip


def operation(session: Session, tenant_id: str, state: str, site_id: str) -> None:
    """An operation waiting for a revision `site_id` never reaches (foreign keys of SQLite are
    off on this engine: no NS instance needed)."""
    session.add(NsLcmOpOccRow(targets={site_id: 99},
        ns_instance_id="00000000-0000-0000-0000-000000000000", tenant_id=tenant_id,
        operation="INSTANTIATE", state=state, deadline=datetime.now(UTC) + timedelta(minutes=5),
    ))  # fmt: skip


def history(
    session: Session, site_id: str, link: str, samples: list[tuple[datetime, float]]
) -> None:
    """Link samples through the intake's own path (`telemetry.record_links`)."""
    reports = [
        (site_id, "status", at, {"links": [{"name": link, "state": "up", "latency_ms": value,
                                            "loss_percent": value / 100, "jitter_ms": value / 10}]})
        for at, value in samples
    ]  # fmt: skip
    telemetry.record_links(session.connection(), reports)


def event(session: Session, site_id: str, name: str, **body: Any) -> None:
    session.add(SiteEventRow(site_id=site_id, item_id=f"{name}-{len(body)}",
                             at=datetime.now(UTC), body={"event": name} | body))  # fmt: skip


def rollout(session: Session, tenant_id: str, name: str, sites: dict[str, str]) -> str:
    """A PAUSED rollout over `sites` (id -> state: PENDING, RUNNING, DONE, FAILED, SKIPPED);
    paused, the rollout worker leaves it alone (and no NSD is needed: foreign keys are off)."""
    row = RolloutRow(tenant_id=tenant_id, name=name, nsd_info_id="none", state="PAUSED",
                     batch_size=2, max_failures=1, total=len(sites), waves=2, wave=0)  # fmt: skip
    session.add(row)
    session.flush()
    for n, (site_id, state) in enumerate(sites.items()):
        session.add(RolloutSiteRow(rollout_id=row.id, site_id=site_id, wave=n // 2, state=state))
    return row.id


def rollout_site(session: Session, rollout_id: str, site_id: str, state: str) -> None:
    found = session.get(RolloutSiteRow, (rollout_id, site_id))
    assert found is not None
    found.state = state
