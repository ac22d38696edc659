"""OPERATION_FAILED through the orchestrator's own paths: the tracker failing an operation at its
deadline raises it; continue clears it; given up (FAILED) keeps it, changed, until a later
operation of the NS instance completes, or the NS instance is deleted."""

from __future__ import annotations

from datetime import timedelta

from edgewise.central.orchestrator import instances, occurrences, tracker
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.services.alarm_terms import component
from edgewise.central.services.alarms_operations import OperationState, operations_moved
from edgewise.central.store.tables import CatalogItemRow, NsInstanceRow, NsLcmOpOccRow, utcnow
from edgewise.tosca import TypeCache
from tests.central.services.alarm_world import Told, active, add_sites, told
from tests.central.services.conftest import World

__all__ = ["told"]


def operation(world: World) -> tuple[NsInstanceRow, NsLcmOpOccRow]:
    """An NS instance with an INSTANTIATE waiting for a site that never applies it, past its
    deadline."""
    s = world.session
    (site,) = add_sites(s, world.acme.tenant_id or "", 1, seen=utcnow())
    nsd = CatalogItemRow(kind="nsd", tenant_id=world.acme.tenant_id)
    s.add(nsd)
    s.flush()
    ns = NsInstanceRow(tenant_id=world.acme.tenant_id, nsd_info_id=nsd.id, nsd_id="x", name="ns")
    s.add(ns)
    s.flush()
    op = NsLcmOpOccRow(ns_instance_id=ns.id, tenant_id=ns.tenant_id, operation="INSTANTIATE",
                       state="PROCESSING", deadline=utcnow() - timedelta(seconds=1),
                       targets={site: 5})  # fmt: skip
    s.add(op)
    s.flush()
    return ns, op


def test_the_tracker_failing_an_operation_raises_and_continue_clears(
    world: World, told: Told
) -> None:
    s = world.session
    ns, op = operation(world)
    assert tracker.advance(s, NsdModels(TypeCache())) == [op.id]
    (alarm,) = active(s)
    assert (alarm.kind, alarm.component) == ("OPERATION_FAILED", component(operation=op.id))
    assert (alarm.managed_object_type, alarm.managed_object_id) == ("NS", ns.id)
    assert alarm.tenant_id == world.acme.tenant_id
    assert alarm.fault_details[0].startswith("INSTANTIATE FAILED_TEMP: ")
    occurrences.continue_(s, world.admin, op.id)
    assert active(s) == []
    assert [c for c, _, _ in told.calls] == ["alarm_raised", "alarm_cleared"]


def test_given_up_it_stays_until_a_later_operation_completes(world: World, told: Told) -> None:
    s = world.session
    ns, op = operation(world)
    tracker.advance(s, NsdModels(TypeCache()))
    occurrences.fail(s, world.admin, op.id)
    (alarm,) = active(s)
    assert "(given up: FAILED)" in alarm.fault_details[0]
    assert [c for c, _, _ in told.calls] == ["alarm_raised", "alarm_changed"]
    later = OperationState("op-2", ns.id, ns.tenant_id, "TERMINATE", "COMPLETED")
    assert operations_moved(s, [later], utcnow()).cleared == 1
    assert active(s) == []


def test_an_ns_instance_deleted_takes_its_alarms_with_it(world: World) -> None:
    s = world.session
    ns, op = operation(world)
    tracker.advance(s, NsdModels(TypeCache()))
    occurrences.fail(s, world.admin, op.id)
    assert len(active(s)) == 1
    instances.delete_instance(s, world.admin, ns.id)
    s.flush()
    assert active(s) == []
