"""The alarm engine on a real store: one active alarm per kind and component, notifications only
for what an operator sees change, and root cause (suppressed, correlated, released)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from edgewise.central.services import alarms
from edgewise.central.services.alarm_terms import Kind, ManagedObject, Severity, component
from edgewise.central.services.alarms import Fault
from edgewise.central.store.alarm_tables import AlarmRow
from tests.central.services.alarm_world import T0, Told, active, add_sites, names, told
from tests.central.services.conftest import World

__all__ = ["told"]


def vnf_down(site: str, vnf: str = "ns-1/fw", why: str = "process-down") -> Fault:
    return Fault(Kind.VNF_DOWN, component(site, vnf=vnf), ManagedObject.SITE, site, site,
                 fault_details=(why,))  # fmt: skip


def offline(site: str) -> Fault:
    return Fault(Kind.SITE_OFFLINE, component(site), ManagedObject.SITE, site, site)


def link_down(site: str, link: str) -> Fault:
    return Fault(Kind.LINK_DOWN, component(site, link=link), ManagedObject.SITE, site, site,
                 link=link)  # fmt: skip


def sla(site: str, link: str, app_class: str) -> Fault:
    return Fault(Kind.SLA_BROKEN, component(site, link=link, app_class=app_class),
                 ManagedObject.SITE, site, site, link=link)  # fmt: skip


def peer_down(site: str, peer: str) -> Fault:
    return Fault(Kind.OVERLAY_PEER_DOWN, component(overlay="o1", site=site, peer=peer),
                 ManagedObject.OVERLAY, "o1", site, peer_site_id=peer)  # fmt: skip


def test_a_repeated_raise_updates_the_one_active_alarm(world: World, told: Told) -> None:
    (site,) = add_sites(world.session, world.acme.tenant_id or "", 1)
    s = world.session
    assert alarms.raise_faults(s, [vnf_down(site)], T0).raised == 1
    again = alarms.raise_faults(s, [vnf_down(site)], T0 + timedelta(seconds=1))
    assert (again.raised, again.changed) == (0, 0)
    worse = Fault(**{**vnf_down(site).__dict__, "severity": Severity.CRITICAL})
    assert alarms.raise_faults(s, [worse], T0 + timedelta(seconds=2)).changed == 1
    other_why = alarms.raise_faults(s, [vnf_down(site, why="ruleset-missing")], T0)
    assert other_why.changed == 1  # severity back to MAJOR and other details: one change
    rows = active(s)
    assert len(rows) == 1
    assert (rows[0].severity, rows[0].fault_details) == ("MAJOR", ["ruleset-missing"])
    assert [c for c, _, _ in told.calls] == ["alarm_raised", "alarm_changed", "alarm_changed"]


def test_a_cleared_alarm_stays_and_a_new_fault_is_a_new_alarm(world: World, told: Told) -> None:
    (site,) = add_sites(world.session, world.acme.tenant_id or "", 1)
    s = world.session
    alarms.raise_faults(s, [vnf_down(site)], T0)
    key = vnf_down(site).key
    assert alarms.clear_keys(s, [key], T0 + timedelta(seconds=5)).cleared == 1
    assert alarms.clear_keys(s, [key], T0 + timedelta(seconds=6)).cleared == 0  # idempotent
    alarms.raise_faults(s, [vnf_down(site)], T0 + timedelta(seconds=7))
    rows = list(s.scalars(select(AlarmRow).order_by(AlarmRow.raised_at)))
    assert [(r.active_key is None, r.cleared_at is not None) for r in rows] == [
        (True, True),
        (False, False),
    ]
    assert [c for c, _, _ in told.calls] == ["alarm_raised", "alarm_cleared", "alarm_raised"]


def test_an_offline_site_explains_its_faults_and_its_peers_tunnels_to_it(
    world: World, told: Told
) -> None:
    a, b, c = add_sites(world.session, world.acme.tenant_id or "", 3)
    s = world.session
    alarms.raise_faults(s, [vnf_down(a), link_down(a, "mpls")], T0)
    assert alarms.raise_faults(s, [offline(a)], T0).changed == 2  # both correlated at once
    root = active(s, "SITE_OFFLINE")[0]
    assert all(r.root_alarm_id == root.id and not r.is_root_cause for r in active(s, "VNF_DOWN"))
    told.calls.clear()
    later = alarms.raise_faults(
        s, [vnf_down(a, "ns-1/nat"), sla(a, "lte", "voice"), peer_down(b, a), peer_down(c, a)], T0
    )
    assert (later.raised, later.suppressed) == (0, 4)
    assert root.details["suppressed"] == 4
    assert told.calls == []  # a suppressed fault changes nothing an operator is told of
    assert alarms.raise_faults(s, [peer_down(b, c)], T0).raised == 1  # c is not offline


def test_a_root_clearing_releases_what_it_correlated(world: World, told: Told) -> None:
    (a,) = add_sites(world.session, world.acme.tenant_id or "", 1)
    s = world.session
    alarms.raise_faults(s, [vnf_down(a)], T0)
    alarms.raise_faults(s, [offline(a), vnf_down(a, "ns-1/nat")], T0)  # the root comes first
    assert [r.kind for r in active(s)] == ["SITE_OFFLINE", "VNF_DOWN"]
    told.calls.clear()
    tally = alarms.clear_keys(s, [offline(a).key], T0 + timedelta(minutes=1))
    assert (tally.cleared, tally.changed) == (1, 1)
    (vnf,) = active(s)
    assert (vnf.kind, vnf.is_root_cause, vnf.root_alarm_id) == ("VNF_DOWN", True, None)
    assert [c for c, _, _ in told.calls] == ["alarm_cleared", "alarm_changed"]


def test_a_link_down_explains_the_slas_on_it_only(world: World, told: Told) -> None:
    (a,) = add_sites(world.session, world.acme.tenant_id or "", 1)
    s = world.session
    alarms.raise_faults(s, [sla(a, "mpls", "voice"), sla(a, "lte", "voice")], T0)
    told.calls.clear()
    tally = alarms.raise_faults(s, [link_down(a, "mpls"), sla(a, "mpls", "video")], T0)
    assert (tally.raised, tally.changed, tally.suppressed) == (1, 1, 1)
    by_name = {r.component: r for r in active(s)}
    root = by_name[component(a, link="mpls")]
    assert by_name[component(a, link="mpls", app_class="voice")].root_alarm_id == root.id
    assert by_name[component(a, link="lte", app_class="voice")].root_alarm_id is None
    assert component(a, link="mpls", app_class="video") not in by_name
    assert told.of("alarm_changed") == [("SLA_BROKEN", component(a, link="mpls",
                                                                 app_class="voice"))]  # fmt: skip


def test_the_store_allows_one_active_alarm_per_kind_and_component(world: World) -> None:
    (a,) = add_sites(world.session, world.acme.tenant_id or "", 1)
    s = world.session
    alarms.raise_faults(s, [vnf_down(a), vnf_down(a), vnf_down(a, why="other")], T0)
    assert s.scalar(select(func.count()).select_from(AlarmRow)) == 1
    assert names(active(s)) == [("VNF_DOWN", component(a, vnf="ns-1/fw"))]
