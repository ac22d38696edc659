"""Writes the alarms a conformance run needs into the central's store, as the central's alarm
engine writes them: the fault API has no route that raises an alarm (SOL005 gives none), so
`fixtures.py` runs this with the project's interpreter (it imports Edgewise, which the suites'
venv does not have):

    python -m conformance.alarm_store STORE_URL < alarms.json   # prints their ids, as JSON

Each alarm in the JSON list: kind, tenant, site, and optionally ns (the NS instance it is
about, else the site), vnf (the faulty VNF instance), root (the index in the list of the alarm
it is correlated to) and component (a distinct faulty component when several of one kind).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from sqlalchemy.orm import Session

from edgewise.central.services.alarm_terms import Kind, ManagedObject, active_key, component
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.engine import open_engine


def row_of(wanted: dict[str, Any], ids: list[str]) -> AlarmRow:
    kind = Kind(wanted["kind"])
    terms = kind.terms
    site, ns, vnf = wanted["site"], wanted.get("ns"), wanted.get("vnf")
    parts = {"vnf": f"{ns}/{vnf}"} if vnf else {}
    if wanted.get("component"):
        parts["part"] = wanted["component"]
    name = component(site, **parts)
    root = wanted.get("root")
    return AlarmRow(
        kind=kind.value, component=name, active_key=active_key(kind, name),
        tenant_id=wanted["tenant"], site_id=site,
        managed_object_type=(ManagedObject.NS if ns else ManagedObject.SITE).value,
        managed_object_id=ns or site, vnf_instance_id=vnf, severity=terms.severity.value,
        event_type=terms.event_type.value, probable_cause=terms.probable_cause,
        fault_type=terms.fault_type, is_root_cause=root is None,
        root_alarm_id=None if root is None else ids[root],
    )  # fmt: skip


def write(url: str, alarms: list[dict[str, Any]]) -> list[str]:
    engine = open_engine(url)
    try:
        ids: list[str] = []
        with Session(engine) as session, session.begin():
            for wanted in alarms:
                row = row_of(wanted, ids)
                session.add(row)
                session.flush()
                ids.append(row.id)
        return ids
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m conformance.alarm_store STORE_URL < alarms.json\n")
        return 2
    sys.stdout.write(json.dumps(write(argv[0], json.load(sys.stdin))) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
