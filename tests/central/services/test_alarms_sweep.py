"""The periodic alarm sweep on a real store with a simulated clock: sites offline (and no storm
when a thousand go at once), certificates expiring, quiet windows; a set-based cost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from edgewise.central.services import alarms, alarms_sweep
from edgewise.central.services.alarm_terms import Kind, ManagedObject, component
from edgewise.central.services.alarms import Fault
from edgewise.central.services.alarms_policy import AlarmPolicy
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.tables import SiteRow, SiteStatusRow
from tests.central.services.alarm_world import T0, Told, active, add_sites, told
from tests.central.services.conftest import World

__all__ = ["told"]
HOLD = 60.0  # the longest poll hold
POLICY = AlarmPolicy()
AFTER = POLICY.offline_after(HOLD)  # 2 holds + 5 s of last-seen slack: 125 s


def sweep(session: Session, at: Any, policy: AlarmPolicy = POLICY) -> alarms.Tally:
    tally = alarms_sweep.sweep(session, policy, HOLD, at)
    session.flush()
    return tally


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        seen.append(str(args[2])[:60])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_silent_site_goes_offline_after_the_holds_and_back_when_heard(
    world: World, told: Told
) -> None:
    s = world.session
    quiet, chatty = add_sites(s, world.acme.tenant_id or "", 2)
    assert sweep(s, T0 + AFTER - timedelta(seconds=1)).raised == 0
    s.execute(update(SiteStatusRow).where(SiteStatusRow.site_id == chatty)
              .values(last_seen_at=T0 + AFTER))  # fmt: skip
    assert sweep(s, T0 + AFTER + timedelta(seconds=1)).raised == 1
    (alarm,) = active(s)
    assert (alarm.kind, alarm.component, alarm.severity) == ("SITE_OFFLINE", f"site:{quiet}",
                                                             "CRITICAL")  # fmt: skip
    assert (alarm.tenant_id, alarm.managed_object_type) == (world.acme.tenant_id, "SITE")
    assert alarm.fault_details == [f"not heard from since {T0.isoformat(timespec='seconds')}"]
    assert sweep(s, T0 + AFTER + timedelta(seconds=30)).raised == 0  # once, not per pass
    back = T0 + AFTER + timedelta(seconds=40)
    s.execute(update(SiteStatusRow).where(SiteStatusRow.site_id == quiet)
              .values(last_seen_at=back))  # fmt: skip
    assert sweep(s, back + timedelta(seconds=1)).cleared == 1
    assert active(s) == []
    assert [c for c, _, _ in told.calls] == ["alarm_raised", "alarm_cleared"]


def test_a_revoked_site_is_not_offline(world: World) -> None:
    s = world.session
    (site,) = add_sites(s, world.acme.tenant_id or "", 1)
    sweep(s, T0 + AFTER * 2)
    s.execute(update(SiteRow).where(SiteRow.id == site).values(revoked_at=T0 + AFTER * 2))
    assert sweep(s, T0 + AFTER * 3).cleared == 1
    assert sweep(s, T0 + AFTER * 4).raised == 0


def test_a_thousand_sites_offline_at_once_raise_a_thousand_roots_and_nothing_else(
    world: World, told: Told
) -> None:
    """No storm: their VNFs' and links' alarms already active are correlated, not raised
    again; what their peers then report of tunnels toward them is suppressed."""
    s = world.session
    sites = add_sites(s, world.acme.tenant_id or "", 1000)
    (peer,) = add_sites(s, world.acme.tenant_id or "", 1, seen=None)
    vnf_faults = [Fault(Kind.VNF_DOWN, component(site, vnf="ns/fw"), ManagedObject.SITE, site,
                        site) for site in sites[:300]]  # fmt: skip
    alarms.raise_faults(s, vnf_faults, T0)
    told.calls.clear()
    moment = T0 + AFTER + timedelta(seconds=1)
    s.execute(update(SiteStatusRow).where(SiteStatusRow.site_id == peer)
              .values(last_seen_at=moment))  # fmt: skip
    started = time.perf_counter()
    tally = sweep(s, moment, AlarmPolicy(sweep_batch=5000))
    elapsed = time.perf_counter() - started
    print(f"1,000 sites offline at once: {tally.raised} alarms raised in {elapsed * 1000:.0f} ms")
    assert (tally.raised, tally.changed) == (1000, 300)
    offline = active(s, "SITE_OFFLINE")
    assert len(offline) == 1000
    assert all(r.is_root_cause for r in offline)
    assert len(told.of("alarm_raised")) == 1000
    assert {k for k, _ in told.of("alarm_changed")} == {"VNF_DOWN"}
    assert elapsed < 10, "1,000 roots within 10 s on a shared 2-core machine (about 0.3 s alone)"
    tunnels = [
        Fault(Kind.OVERLAY_PEER_DOWN, component(overlay="o", site=peer, peer=site),
              ManagedObject.OVERLAY, "o", peer, peer_site_id=site)
        for site in sites
    ]  # fmt: skip
    assert alarms.raise_faults(s, tunnels, moment).suppressed == 1000
    assert s.scalar(select(func.count()).select_from(AlarmRow)) == 1300


def test_ten_thousand_quiet_sites_cost_a_few_statements(world: World) -> None:
    s = world.session
    add_sites(s, world.acme.tenant_id or "", 10_000)
    sweep(s, T0)
    with statements(s) as seen:
        started = time.perf_counter()
        tally = sweep(s, T0 + timedelta(seconds=30))
        elapsed = time.perf_counter() - started
    print(f"sweep of 10,000 quiet sites: {len(seen)} statements, {elapsed * 1000:.1f} ms")
    assert (tally.raised, tally.cleared) == (0, 0)
    assert len(seen) <= 6, seen  # one per check, whatever the number of sites
    assert elapsed < 2.0


def test_a_certificate_near_its_end_warns_then_is_major_once_ended(
    world: World, told: Told
) -> None:
    s = world.session
    (site,) = add_sites(s, world.acme.tenant_id or "", 1, cert_ends=T0 + timedelta(days=20))
    assert sweep(s, T0).raised == 0
    s.execute(update(SiteStatusRow).values(last_seen_at=T0 + timedelta(days=7)))
    assert sweep(s, T0 + timedelta(days=7)).raised == 1
    (alarm,) = active(s)
    assert (alarm.severity, alarm.component) == ("WARNING", f"site:{site}/certificate:client")
    ended = T0 + timedelta(days=20, seconds=1)
    s.execute(update(SiteStatusRow).values(last_seen_at=ended))
    assert sweep(s, ended).changed == 1
    assert alarm.severity == "MAJOR"
    s.execute(update(SiteRow).where(SiteRow.id == site)
              .values(cert_expires_at=ended + timedelta(days=365)))  # fmt: skip
    assert sweep(s, ended + timedelta(seconds=1)).cleared == 1
    calls = [c for c, kind, _ in told.calls if kind == "CERTIFICATE_EXPIRING"]
    assert calls == ["alarm_raised", "alarm_changed", "alarm_cleared"]


def test_flapping_and_drift_clear_once_their_window_passes_quietly(world: World) -> None:
    s = world.session
    (site,) = add_sites(s, world.acme.tenant_id or "", 1)
    flapping = Fault(Kind.VNF_FLAPPING, component(site, vnf="ns/fw"), ManagedObject.SITE, site,
                     site, at=T0)  # fmt: skip
    drift = Fault(Kind.DRIFT_REPEATED, component(site), ManagedObject.SITE, site, site, at=T0)
    alarms.raise_faults(s, [flapping, drift], T0)
    policy = AlarmPolicy(flap_window_s=60, drift_window_s=300)
    s.execute(update(SiteStatusRow).values(last_seen_at=T0 + timedelta(seconds=61)))
    assert sweep(s, T0 + timedelta(seconds=61), policy).cleared == 1
    assert [r.kind for r in active(s)] == ["DRIFT_REPEATED"]
    s.execute(update(SiteStatusRow).values(last_seen_at=T0 + timedelta(seconds=301)))
    assert sweep(s, T0 + timedelta(seconds=301), policy).cleared == 1
