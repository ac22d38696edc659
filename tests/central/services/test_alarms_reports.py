"""Alarms from what sites report, through the real intake path (`record_batches`) on a real
store: VNFs down, links down and SLAs broken (with the link as root), a refused document,
restarts and drift repairs over a window, overlay peers down (not toward an offline site)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from edgewise.central.services import alarms_sweep, site_channel
from edgewise.central.services.alarm_terms import component
from edgewise.central.services.alarms_policy import AlarmPolicy
from edgewise.central.services.errors import Invalid
from edgewise.central.store.sdwan_tables import OverlayMemberRow, OverlayRow
from edgewise.central.store.tables import (
    CatalogItemRow,
    DesiredStateRow,
    NsInstanceRow,
    SiteStatusRow,
)
from tests.central.services.alarm_world import (
    T0,
    Told,
    active,
    add_sites,
    event,
    names,
    report,
    status,
    told,
    vnfs,
)
from tests.central.services.conftest import World

__all__ = ["told"]
STEERING: dict[str, Any] = {
    "classes": [{"name": "voice", "protocol": "udp", "ports": [5060]},
                {"name": "video", "dscp": 34}],
    "sla_profiles": [{"name": "gold", "max_latency_ms": 150, "max_loss_percent": 1}],
    "policies": [{"class": "voice", "links": ["mpls", "lte"], "sla": "gold"},
                 {"class": "video", "links": ["mpls"], "sla": "gold"}],
}  # fmt: skip


def tick(seconds: float) -> Any:
    return T0 + timedelta(seconds=seconds)


def test_a_status_raises_vnf_down_about_its_ns_instance_and_clears_it(
    world: World, told: Told
) -> None:
    s = world.session
    (site,) = add_sites(s, world.acme.tenant_id or "", 1)
    nsd = CatalogItemRow(kind="nsd", tenant_id=world.acme.tenant_id)
    s.add(nsd)
    s.flush()
    ns = NsInstanceRow(tenant_id=world.acme.tenant_id, nsd_info_id=nsd.id, nsd_id="x", name="ns")
    s.add(ns)
    s.flush()
    report(s, site, status(tick(1), services=[*vnfs(ns.id, ("fw", False), ("nat", True)),
                                              *vnfs("raw", ("dpi", False))]))  # fmt: skip
    by_name = {row.component: row for row in active(s)}
    fw = by_name[component(site, vnf=f"{ns.id}/fw")]
    assert (fw.kind, fw.managed_object_type, fw.managed_object_id) == ("VNF_DOWN", "NS", ns.id)
    assert (fw.vnf_instance_id, fw.tenant_id, fw.fault_details) == ("fw", world.acme.tenant_id,
                                                                    ["process-down"])  # fmt: skip
    raw = by_name[component(site, vnf="raw/dpi")]
    assert (raw.managed_object_type, raw.managed_object_id) == ("SITE", site)
    report(s, site, status(tick(2), services=vnfs(ns.id, ("fw", False), ("nat", True))))
    assert [r.component for r in active(s)] == [fw.component]
    report(s, site, status(tick(3), services=vnfs(ns.id, ("fw", True), ("nat", True))))
    assert active(s) == []
    assert [c for c, _, _ in told.calls] == ["alarm_raised"] * 2 + ["alarm_cleared"] * 2


def test_a_link_down_is_the_root_of_the_slas_on_it(world: World, told: Told) -> None:
    s = world.session
    (site,) = add_sites(s, world.acme.tenant_id or "", 1)
    s.add(DesiredStateRow(site_id=site, revision=1, document={"services": [],
                                                              "steering": STEERING}))  # fmt: skip
    s.flush()
    links = [{"name": "mpls", "state": "down"}, {"name": "lte", "state": "up", "latency_ms": 200}]
    report(s, site, status(tick(1), links=links))
    assert names(active(s)) == [  # by component
        ("SLA_BROKEN", component(site, link="lte", app_class="voice")),
        ("LINK_DOWN", component(site, link="mpls")),
    ]
    root = active(s, "LINK_DOWN")[0]
    assert root.details["suppressed"] == 2  # voice and video on mpls
    (lte,) = active(s, "SLA_BROKEN")
    assert lte.fault_details == ["latency over gold's 150 ms"]
    assert lte.details["latency_ms"] == 200
    worse = [{"name": "mpls", "state": "down"}, {"name": "lte", "state": "up", "latency_ms": 300}]
    told.calls.clear()
    report(s, site, status(tick(2), links=worse))
    assert told.calls == []  # the figures moved; what is broken did not
    slow = [{"name": "mpls", "state": "up", "latency_ms": 180}, {"name": "lte", "state": "up"}]
    report(s, site, status(tick(3), links=slow))
    assert names(active(s)) == [
        ("SLA_BROKEN", component(site, link="mpls", app_class="video")),
        ("SLA_BROKEN", component(site, link="mpls", app_class="voice")),
    ]
    assert all(r.is_root_cause for r in active(s))
    report(s, site, status(tick(4), links=[{"name": "mpls", "state": "up"}]))
    assert active(s) == []


def test_link_state_events_raise_and_clear_at_once(world: World) -> None:
    s = world.session
    (site,) = add_sites(s, world.acme.tenant_id or "", 1)
    down = {"event": "link-state", "link": "mpls", "from": "up", "to": "down", "reason": "carrier"}
    report(s, site, event(tick(1), **down))
    (alarm,) = active(s)
    assert (alarm.kind, alarm.fault_details) == ("LINK_DOWN", ["link mpls is down: carrier"])
    report(s, site, event(tick(2), **{**down, "from": "down", "to": "up"}))
    assert active(s) == []
    old = event(tick(3), **down)
    report(s, site, status(tick(4), links=[{"name": "mpls", "state": "up"}]), old)
    assert active(s) == []  # an event older than the status it came with changes nothing


def test_a_refused_document_raises_until_a_status_shows_it_taken(world: World) -> None:
    s = world.session
    (site,) = add_sites(s, world.acme.tenant_id or "", 1)
    refused = {"event": "document-rejected", "revision": 3, "problems": ["links[0].name: bad"],
               "detail": "revision 3 rejected: 1 problem(s)"}  # fmt: skip
    report(s, site, event(tick(1), **refused))
    (alarm,) = active(s)
    assert (alarm.kind, alarm.severity) == ("SITE_REFUSING", "MAJOR")
    assert alarm.fault_details == ["revision 3 rejected: 1 problem(s)", "links[0].name: bad"]
    report(s, site, status(tick(2), error="revision 3 rejected: 1 problem(s)"))
    assert len(active(s)) == 1
    report(s, site, status(tick(3), revision=4))
    assert active(s) == []


def test_a_status_older_than_an_event_does_not_clear_what_the_event_raised(world: World) -> None:
    s = world.session
    (site,) = add_sites(s, world.acme.tenant_id or "", 1)
    refused = {"event": "document-rejected", "revision": 3, "detail": "revision 3 rejected"}
    report(s, site, status(tick(1)), event(tick(2), **refused))  # sent before it was refused
    assert [r.kind for r in active(s)] == ["SITE_REFUSING"]
    report(s, site, status(tick(3)))
    assert active(s) == []


def test_restarts_and_repairs_within_the_window_flap_and_drift(world: World) -> None:
    s = world.session
    (site,) = add_sites(s, world.acme.tenant_id or "", 1)
    policy = AlarmPolicy(flap_restarts=3, flap_window_s=60, drift_repairs=2, drift_window_s=60)
    restart = {"event": "vnf-repaired", "service": "ns", "vnf": "fw", "reason": "unhealthy"}
    spaced = [event(tick(n * 40), **restart) for n in range(3)]  # 3 restarts over 80 s
    for item in spaced:
        site_channel.record_batches(s, [(site, [item])], alarm_policy=policy)
    assert active(s) == []
    site_channel.record_batches(s, [(site, [event(tick(90), **restart)])], alarm_policy=policy)
    (alarm,) = active(s)
    assert (alarm.kind, alarm.component) == ("VNF_FLAPPING", component(site, vnf="ns/fw"))
    assert alarm.details["restarts"] == 3
    drift = {"event": "service-repaired", "service": "ns", "reason": "missing"}
    items = [event(tick(100), **drift), event(tick(101), **drift)]
    site_channel.record_batches(s, [(site, items)], alarm_policy=policy)
    assert [r.kind for r in active(s)] == ["DRIFT_REPEATED", "VNF_FLAPPING"]


def test_a_report_clears_its_site_offline_and_tunnels_toward_an_offline_site_stay_quiet(
    world: World, told: Told
) -> None:
    """A mesh of four sites; d goes silent. Its peers' tunnels toward it are down: no alarm,
    counted on d's SITE_OFFLINE. A tunnel toward b (online) is an OVERLAY alarm."""
    s = world.session
    tenant = world.acme.tenant_id or ""
    a, b, c, d = add_sites(s, tenant, 4)
    overlay = OverlayRow(tenant_id=tenant, name="mesh", topology="mesh", prefix="10.255.0.0/24",
                         base_port=51820, key_rotation_h=0, hubs=[])  # fmt: skip
    s.add(overlay)
    s.flush()
    for n, site in enumerate((a, b, c, d)):
        s.add(OverlayMemberRow(overlay_id=overlay.id, site_id=site, address=f"10.255.0.{n + 1}"))
    policy = AlarmPolicy()
    later = T0 + policy.offline_after(60) + timedelta(seconds=1)
    s.execute(update(SiteStatusRow).where(SiteStatusRow.site_id != d).values(last_seen_at=later))
    alarms_sweep.sweep(s, policy, 60, later)
    (offline,) = active(s)
    assert offline.component == component(d)
    for site in (a, b, c):
        peers = {peer: "down" if peer == d else "up" for peer in (a, b, c, d) if peer != site}
        report(s, site, status(later, overlay_peers={tenant: peers}))
    assert names(active(s)) == [("SITE_OFFLINE", component(d))]
    assert offline.details["suppressed"] == 3
    report(s, a, status(later + timedelta(seconds=1), overlay_peers={tenant: {b: "down"}}))
    tunnel = active(s, "OVERLAY_PEER_DOWN")[0]
    assert tunnel.component == component(overlay=overlay.id, site=a, peer=b)
    assert (tunnel.managed_object_type, tunnel.managed_object_id) == ("OVERLAY", overlay.id)
    report(s, d, status(later + timedelta(seconds=2)))  # d is back: its report says so
    assert names(active(s)) == [("OVERLAY_PEER_DOWN", tunnel.component)]


def test_overlay_peers_in_a_status_are_checked_at_intake() -> None:
    batch = {"items": [{"id": "i1", "kind": "status", "at": T0.isoformat(),
                        "body": {"overlay_peers": {"t1": {"p1": "sideways"}}}}]}  # fmt: skip
    with pytest.raises(Invalid) as refused:
        site_channel.parse_report_batch(batch, max_items=10, now=T0)
    assert [p.where for p in refused.value.problems] == ["items[0].body.overlay_peers.t1.p1"]
