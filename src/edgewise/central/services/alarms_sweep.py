"""The alarms nothing reports: a tracker step (`workers.tracker_steps`) raises and clears
SITE_OFFLINE (no poll for N holds) and CERTIFICATE_EXPIRING (a site's client certificate within
N days of its end), and clears VNF_FLAPPING and DRIFT_REPEATED once their window passes quietly.
Each is one set-based query per pass, bounded by `AlarmPolicy.sweep_batch` (the next pass takes
the rest): 10,000 quiet sites cost a few index lookups, not a query each."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, aliased

from edgewise.central.services.alarm_terms import Kind, ManagedObject, Severity, component
from edgewise.central.services.alarms import Fault, Tally, clear_rows, raise_faults
from edgewise.central.services.alarms_policy import AlarmPolicy
from edgewise.central.store.alarm_tables import AlarmRow
from edgewise.central.store.tables import SiteRow, SiteStatusRow, aware


def sweep(session: Session, policy: AlarmPolicy, longest_hold_s: float, now: datetime) -> Tally:
    """One pass of every periodic check, in the caller's transaction."""
    tally = offline(session, policy, now - policy.offline_after(longest_hold_s), now)
    tally.add(certificates(session, policy, now))
    return tally.add(quiet_windows(session, policy, now))


def offline(session: Session, policy: AlarmPolicy, cutoff: datetime, now: datetime) -> Tally:
    """SITE_OFFLINE for enrolled sites not heard from since `cutoff`; cleared for those heard
    from since (or revoked: no longer expected to call)."""
    site, status, alarm = SiteRow, SiteStatusRow, aliased(AlarmRow)
    silent = session.execute(
        select(site.id, site.tenant_id, site.enrolled_at, status.last_seen_at)
        .outerjoin(status, status.site_id == site.id)
        .outerjoin(alarm, _active(alarm, Kind.SITE_OFFLINE, site.id))
        .where(
            site.enrolled_at.is_not(None),
            site.revoked_at.is_(None),
            site.enrolled_at < cutoff,
            or_(status.last_seen_at.is_(None), status.last_seen_at < cutoff),
            alarm.id.is_(None),
        )
        .limit(policy.sweep_batch)
    ).all()
    faults = []
    for site_id, tenant, enrolled, seen in silent:
        last = max(aware(m) for m in (enrolled, seen) if m is not None)
        faults.append(Fault(
            Kind.SITE_OFFLINE, component(site_id), ManagedObject.SITE, site_id, site_id, tenant,
            fault_details=(f"not heard from since {last.isoformat(timespec='seconds')}",),
            details={"lastContact": last.isoformat()}, at=last,
        ))  # fmt: skip
    tally = raise_faults(session, faults, now)
    back = session.scalars(
        select(AlarmRow)
        .join(site, site.id == AlarmRow.site_id)
        .outerjoin(status, status.site_id == site.id)
        .where(
            AlarmRow.kind == Kind.SITE_OFFLINE.value,
            AlarmRow.active_key.is_not(None),
            or_(
                site.revoked_at.is_not(None),
                site.enrolled_at >= cutoff,
                status.last_seen_at >= cutoff,
            ),
        )
        .limit(policy.sweep_batch)
    ).all()
    return tally.add(clear_rows(session, back, now)) if back else tally


def certificates(session: Session, policy: AlarmPolicy, now: datetime) -> Tally:
    """CERTIFICATE_EXPIRING for sites whose client certificate ends within the policy's days
    (MAJOR once it has ended); cleared when renewed, revoked or the site is gone."""
    horizon = now + timedelta(days=policy.certificate_days)
    site, alarm = SiteRow, aliased(AlarmRow)
    due = session.execute(
        select(site.id, site.tenant_id, site.cert_serial, site.cert_expires_at)
        .outerjoin(alarm, _active(alarm, Kind.CERTIFICATE_EXPIRING, site.id))
        .where(
            site.cert_serial.is_not(None),
            site.revoked_at.is_(None),
            site.cert_expires_at < horizon,
            or_(
                alarm.id.is_(None),
                and_(site.cert_expires_at <= now, alarm.severity != Severity.MAJOR.value),
            ),
        )
        .limit(policy.sweep_batch)
    ).all()
    faults = []
    for site_id, tenant, serial, expires in due:
        assert expires is not None  # selected below the horizon
        ends = aware(expires)
        ended, end = ends <= now, ends.isoformat(timespec="seconds")
        faults.append(Fault(
            Kind.CERTIFICATE_EXPIRING, component(site_id, certificate="client"),
            ManagedObject.SITE, site_id, site_id, tenant,
            severity=Severity.MAJOR if ended else None,
            fault_details=(f"client certificate {serial} {'ended' if ended else 'ends'} {end}",),
            details={"serial": serial, "notAfter": ends.isoformat()}, at=now,
        ))  # fmt: skip
    tally = raise_faults(session, faults, now)
    renewed = session.scalars(
        select(AlarmRow)
        .join(site, site.id == AlarmRow.site_id)
        .where(
            AlarmRow.kind == Kind.CERTIFICATE_EXPIRING.value,
            AlarmRow.active_key.is_not(None),
            or_(
                site.revoked_at.is_not(None),
                site.cert_serial.is_(None),
                site.cert_expires_at >= horizon,
            ),
        )
        .limit(policy.sweep_batch)
    ).all()
    return tally.add(clear_rows(session, renewed, now)) if renewed else tally


def quiet_windows(session: Session, policy: AlarmPolicy, now: datetime) -> Tally:
    """VNF_FLAPPING and DRIFT_REPEATED whose last repair is older than their window."""
    windows = ((Kind.VNF_FLAPPING, policy.flap_window_s), (Kind.DRIFT_REPEATED,
                                                            policy.drift_window_s))  # fmt: skip
    quiet = session.scalars(
        select(AlarmRow)
        .where(
            AlarmRow.active_key.is_not(None),
            or_(*(
                and_(AlarmRow.kind == kind.value,
                     AlarmRow.event_time < now - timedelta(seconds=window))
                for kind, window in windows
            )),
        )
        .limit(policy.sweep_batch)
    ).all()  # fmt: skip
    return clear_rows(session, quiet, now) if quiet else Tally()


def _active(alarm: type[AlarmRow], kind: Kind, site_id: Any) -> ColumnElement[bool]:
    return and_(alarm.site_id == site_id, alarm.kind == kind.value, alarm.active_key.is_not(None))
