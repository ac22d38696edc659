"""Alarms for the fault API's tests, written straight to the store as the alarm engine writes
them (the engine is tested on its own), and the suite's own schemas to check documents with."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
import pytest

from edgewise.central.services.alarm_terms import Kind, ManagedObject, active_key, component
from edgewise.central.store.alarm_tables import AlarmRow
from tests.central.api.conftest import Central
from tests.central.api.test_nslcm import sessions
from tests.conftest import SHARED

SCHEMAS = SHARED / "conformance" / "etsi-sol005" / "NSFaultManagement-API" / "schemas"


def raise_alarm(
    central: Central,
    kind: Kind,
    *,
    tenant_id: str | None,
    site_id: str,
    managed: tuple[ManagedObject, str] | None = None,
    vnf: str | None = None,
    root: str | None = None,
    details: tuple[str, ...] = (),
) -> str:
    """A new active alarm of `kind` at `site_id`: about the site unless `managed` names the NS
    instance; correlated to `root` when given."""
    terms = kind.terms
    name = component(site_id, vnf=vnf) if vnf else component(site_id)
    object_type, object_id = managed or (ManagedObject.SITE, site_id)
    with sessions(central).begin() as session:
        row = AlarmRow(
            kind=kind.value, component=name, active_key=active_key(kind, name),
            tenant_id=tenant_id, site_id=site_id, managed_object_type=object_type.value,
            managed_object_id=object_id, vnf_instance_id=vnf, severity=terms.severity.value,
            event_type=terms.event_type.value, probable_cause=terms.probable_cause,
            fault_type=terms.fault_type, fault_details=list(details),
            is_root_cause=root is None, root_alarm_id=root,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


@cache
def _schema(name: str) -> dict[str, Any]:
    path = SCHEMAS / f"{name}.schema.json"
    if not path.is_file():
        pytest.skip(f"ETSI's NSFaultManagement schemas are not at {SCHEMAS}")
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def assert_schema(name: str, document: Any) -> None:
    """`document` against the suite's schema `name`, with two of its faults mended as SOL005
    v2.6.1 says (conformance/README.md): faultDetails an array of strings, not a string, and
    an AlarmNotification's type AlarmNotification, not AlarmClearedNotification."""
    schema = json.loads(json.dumps(_schema(name)))
    if name == "alarmNotification":
        schema["properties"]["notificationType"]["enum"] = ["AlarmNotification"]
    for alarm in _alarm_schemas(schema):
        alarm["properties"]["faultDetails"] = {"type": "array", "items": {"type": "string"}}
    jsonschema.validate(document, schema)


def _alarm_schemas(schema: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(schema, dict):
        if "faultDetails" in schema.get("properties", {}):
            found.append(schema)
        for value in schema.values():
            found.extend(_alarm_schemas(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(_alarm_schemas(value))
    return found
