"""`edgewise alarm list|show|ack` against a real local central, over its fault API: filters by
severity, site and kind, active or all, an alarm named by an id prefix, acknowledging once.
The alarms are written to the central's store as its alarm engine writes them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from edgewise.central.services.alarm_terms import Kind, ManagedObject, active_key, component
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.engine import open_engine
from edgewise.central.store.tables import utcnow
from edgewise.lab.central import free_port, local_central
from tests.cli.test_operator import as_json, edgewise, ok


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path]]:
    data_dir = tmp_path_factory.mktemp("central")
    state = tmp_path_factory.mktemp("state")
    with local_central(data_dir, free_port(), env={"XDG_STATE_HOME": str(state)}) as url:
        token = (data_dir / "admin.token").read_text().strip()
        yield {"EDGEWISE_CENTRAL": url, "EDGEWISE_TOKEN": token}, data_dir / "edgewise.db"


def store_alarm(
    store: Path, kind: Kind, site: dict[str, str], *, cleared: bool = False, root: str | None = None
) -> str:
    terms = kind.terms
    name = component(site["id"], link="mpls") if kind is Kind.LINK_DOWN else component(site["id"])
    engine = open_engine(f"sqlite:///{store}")
    try:
        with Session(engine) as session, session.begin():
            row = AlarmRow(
                kind=kind.value, component=name,
                active_key=None if cleared else active_key(kind, name),
                tenant_id=site["tenantId"], site_id=site["id"],
                managed_object_type=ManagedObject.SITE.value, managed_object_id=site["id"],
                severity=terms.severity.value, event_type=terms.event_type.value,
                probable_cause=terms.probable_cause, fault_type=terms.fault_type,
                cleared_at=utcnow() if cleared else None,
                is_root_cause=root is None, root_alarm_id=root,
            )  # fmt: skip
            session.add(row)
            session.flush()
            return row.id
    finally:
        engine.dispose()


def test_an_operator_lists_shows_and_acknowledges_alarms(
    central: tuple[dict[str, str], Path],
) -> None:
    env, store = central
    as_json("tenant", "add", "acme", env=env)
    hq = as_json("site", "add", "hq", "--tenant", "acme", env=env)
    branch = as_json("site", "add", "branch", "--tenant", "acme", env=env)
    offline = store_alarm(store, Kind.SITE_OFFLINE, hq)
    link = store_alarm(store, Kind.LINK_DOWN, hq, root=offline)
    refusing = store_alarm(store, Kind.SITE_REFUSING, branch)
    old = store_alarm(store, Kind.SITE_OFFLINE, branch, cleared=True)

    listed = as_json("alarm", "list", env=env)
    assert [a["id"] for a in listed] == [offline, link, refusing]  # CRITICAL, then MAJOR by age
    everything = as_json("alarm", "list", "--all", env=env)
    assert {a["id"] for a in everything} == {offline, link, refusing, old}
    assert [a["id"] for a in as_json("alarm", "list", "--site", "hq", env=env)] == [offline, link]
    assert [a["id"] for a in as_json("alarm", "list", "--severity", "critical", env=env)] == [
        offline
    ]
    by_kind = as_json("alarm", "list", "--kind", "LINK_DOWN", "--kind", "SITE_REFUSING", env=env)
    assert {a["id"] for a in by_kind} == {link, refusing}
    table = ok("alarm", "list", env=env)
    assert "SEVERITY" in table
    assert f"-> {offline[:8]}" in table

    shown = as_json("alarm", "show", link[:8], env=env)
    assert shown["correlatedAlarmIds"] == [offline]
    assert "component:" in ok("alarm", "show", link, env=env)
    acked = as_json("alarm", "ack", offline[:8], env=env)
    assert acked["ackState"] == "ACKNOWLEDGED"
    again = edgewise("alarm", "ack", offline, env=env)
    assert again.returncode == 1
    assert "already acknowledged" in again.stderr
    loud = edgewise("alarm", "list", "--severity", "LOUD", env=env)
    assert loud.returncode == 2
    assert "LOUD" in loud.stderr
    missing = edgewise("alarm", "show", "ffffffff", env=env)
    assert missing.returncode == 1
    assert "alarm 'ffffffff' does not exist" in missing.stderr
