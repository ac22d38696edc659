"""Alarms from what sites report, in the intake's transaction (`site_channel.record_batches`):
a report clears its site's SITE_OFFLINE (it is heard from); events raise at once (a refused
document, a link going down, VNF restarts and drift repairs counted over a window); the newest
status settles in full what it covers (VNFs down, links down, SLAs broken, overlay peers down,
the document refused), raising what it shows and clearing what it no longer does."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.services import alarms_sla
from edgewise.central.services.alarm_terms import Kind, ManagedObject, active_key, component
from edgewise.central.services.alarms import Fault, Said, Tally, clear_keys, raise_faults
from edgewise.central.services.alarms import settle as settle_faults
from edgewise.central.services.alarms_policy import AlarmPolicy
from edgewise.central.services.alarms_roots import offline_key
from edgewise.central.store.sdwan_tables import OverlayRow
from edgewise.central.store.tables import NsInstanceRow, SiteEventRow, SiteRow

REFUSED: Final = re.compile(r"^revision \d+ rejected")  # the controller's error when it refuses
REPAIRS: Final = frozenset({"service-repaired", "vnf-repaired", "wan-repaired"})
DRIFTS: Final = frozenset({"missing", "unwanted", "chain-changed", "config-changed"})
UNHEALTHY: Final = "unhealthy"  # a repair's reason when the VNF died (site.reconcile)
MAX_WINDOW_EVENTS: Final = 2000  # a site's events read back to count restarts and repairs


@dataclass(frozen=True)
class Reported:
    """One item a site reported: `at` on the site's clock, its body."""

    site_id: str
    at: datetime
    body: Mapping[str, Any]


@dataclass
class _Known:
    """What the faults of a batch need to name their managed objects and tenants."""

    tenants: dict[str, str] = field(default_factory=dict)  # site -> tenant
    ns_tenants: dict[str, str | None] = field(default_factory=dict)  # NS instance -> tenant
    overlays: dict[str, str] = field(default_factory=dict)  # tenant -> overlay


def on_reports(
    session: Session,
    statuses: Sequence[Reported],
    events: Sequence[Reported],
    now: datetime,
    policy: AlarmPolicy,
) -> Tally:
    """The alarms these newly recorded reports raise and clear (statuses: the newest per site)."""
    heard = sorted({r.site_id for r in (*statuses, *events)})
    if not heard:
        return Tally()
    tally = clear_keys(session, [offline_key(site) for site in heard], now)
    known = _known(session, heard, statuses, events)
    newest = {r.site_id: r.at for r in statuses}
    tally.add(_from_events(session, events, known, now, policy=policy, newest=newest))
    scopes: dict[str, Said] = {}
    present: list[Fault] = []
    steering = alarms_sla.steering_of(session, [s.site_id for s in statuses if "links" in s.body])
    for status in statuses:
        if status.site_id not in known.tenants:
            continue
        scope, faults = status_faults(status, known, steering.get(status.site_id))
        scopes[status.site_id] = Said(scope, status.at)
        present.extend(faults)
    return tally.add(settle_faults(session, scopes, present, now))


def status_faults(
    status: Reported, known: _Known, steering: alarms_sla.SiteSteering | None
) -> tuple[frozenset[Kind], list[Fault]]:
    """The kinds a status speaks for at its site, and the faults it shows (pure)."""
    site, body, tenant = status.site_id, status.body, known.tenants[status.site_id]
    kinds = {Kind.SITE_REFUSING, Kind.VNF_DOWN}
    faults: list[Fault] = []
    error = body.get("error")
    if isinstance(error, str) and REFUSED.match(error):
        faults.append(
            _site_fault(Kind.SITE_REFUSING, site, tenant, at=status.at, why=(error[:500],))
        )
    for service in body.get("services") or ():
        ns = str(service.get("id", ""))
        for vnf in service.get("vnfs") or ():
            if vnf.get("healthy", True) is False:
                broken = tuple(map(str, vnf.get("faults") or ()))
                faults.append(_vnf_fault(Kind.VNF_DOWN, site, f"{ns}/{vnf.get('name')}", known,
                                         at=status.at, why=broken))  # fmt: skip
    links = body.get("links")
    if isinstance(links, list):
        kinds |= {Kind.LINK_DOWN, Kind.SLA_BROKEN}
        for link in links:
            name, state = str(link.get("name")), str(link.get("state"))
            if state == "down":
                faults.append(_link_fault(site, tenant, name, status.at, f"link {name} is down"))
            for app_class, broken in alarms_sla.broken(steering, link):
                faults.append(Fault(
                    Kind.SLA_BROKEN, component(site, link=name, app_class=app_class),
                    ManagedObject.SITE, site, site, tenant, at=status.at,
                    fault_details=broken, link=name, details=_figures(link),
                ))  # fmt: skip
    peers = body.get("overlay_peers")
    if isinstance(peers, Mapping):
        kinds.add(Kind.OVERLAY_PEER_DOWN)
        for owner, states in peers.items():
            overlay = known.overlays.get(str(owner))
            if overlay is None or not isinstance(states, Mapping):
                continue  # an overlay the central no longer has
            for peer, state in states.items():
                if state == "down":
                    faults.append(Fault(
                        Kind.OVERLAY_PEER_DOWN, component(overlay=overlay, site=site, peer=peer),
                        ManagedObject.OVERLAY, overlay, site, str(owner), at=status.at,
                        fault_details=(f"no tunnel from site {site} to site {peer}",),
                        peer_site_id=str(peer),
                    ))  # fmt: skip
    return frozenset(kinds), faults


def _from_events(
    session: Session,
    events: Sequence[Reported],
    known: _Known,
    now: datetime,
    *,
    policy: AlarmPolicy,
    newest: Mapping[str, datetime],
) -> Tally:
    raised: list[Fault] = []
    cleared: list[str] = []
    counted: set[str] = set()
    for event in events:
        site, body = event.site_id, event.body
        tenant = known.tenants.get(site)
        if tenant is None:
            continue
        name = body.get("event")
        stale = site in newest and _naive(event.at) <= _naive(newest[site])
        if name == "document-rejected" and not stale:
            problems = tuple(str(p)[:300] for p in (body.get("problems") or ())[:10])
            detail = (str(body.get("detail", "desired state refused"))[:300], *problems)
            raised.append(_site_fault(Kind.SITE_REFUSING, site, tenant, at=event.at, why=detail))
        elif name == "link-state" and not stale:
            link = str(body.get("link"))
            if body.get("to") == "down":
                why = f"link {link} is down: {body.get('reason', 'reported down')}"
                raised.append(_link_fault(site, tenant, link, event.at, why))
            elif body.get("from") == "down":
                cleared.append(active_key(Kind.LINK_DOWN, component(site, link=link)))
        elif name in REPAIRS:
            counted.add(site)
    tally = clear_keys(session, cleared, now) if cleared else Tally()
    raised.extend(_repeated(session, sorted(counted), known, policy))
    return tally.add(raise_faults(session, raised, now))


def _repeated(
    session: Session, sites: Sequence[str], known: _Known, policy: AlarmPolicy
) -> list[Fault]:
    """VNF_FLAPPING and DRIFT_REPEATED from the repairs each site reported within the windows
    (on the site's clock: its newest repair ends the window)."""
    faults: list[Fault] = []
    widest = timedelta(seconds=max(policy.flap_window_s, policy.drift_window_s))
    for site in sites:
        rows = session.execute(
            select(SiteEventRow.at, SiteEventRow.body)
            .where(SiteEventRow.site_id == site)
            .order_by(SiteEventRow.id.desc())
            .limit(MAX_WINDOW_EVENTS)
        ).all()
        repairs = [(_naive(at), body) for at, body in rows if body.get("event") in REPAIRS]
        if not repairs:
            continue
        last = max(at for at, _ in repairs)
        repairs = [(at, body) for at, body in repairs if at >= last - widest]
        flap_from = last - timedelta(seconds=policy.flap_window_s)
        restarts = Counter(
            f"{b.get('service')}/{b.get('vnf')}"
            for at, b in repairs
            if at >= flap_from and b.get("event") == "vnf-repaired" and b.get("reason") == UNHEALTHY
        )
        when = last.replace(tzinfo=UTC)
        for vnf, count in restarts.items():
            if count >= policy.flap_restarts:
                why = f"restarted {policy.flap_restarts} times or more within a window of "
                why += f"{policy.flap_window_s:g} s"
                faults.append(_vnf_fault(Kind.VNF_FLAPPING, site, vnf, known, at=when, why=(why,),
                                         extra={"restarts": count}))  # fmt: skip
        drift_from = last - timedelta(seconds=policy.drift_window_s)
        drifts = sum(1 for at, b in repairs if at >= drift_from and b.get("reason") in DRIFTS)
        if drifts >= policy.drift_repairs:
            why = f"{policy.drift_repairs} repairs of drift or more within a window of "
            why += f"{policy.drift_window_s:g} s"
            faults.append(_site_fault(Kind.DRIFT_REPEATED, site, known.tenants[site], at=when,
                                      why=(why,), extra={"repairs": drifts}))  # fmt: skip
    return faults


def _known(
    session: Session, sites: Sequence[str], statuses: Sequence[Reported], events: Sequence[Reported]
) -> _Known:
    known = _Known()
    known.tenants = dict(
        session.execute(select(SiteRow.id, SiteRow.tenant_id).where(SiteRow.id.in_(sites))).all()
    )
    services = {str(s.get("id")) for r in statuses for s in r.body.get("services") or ()}
    services |= {str(e.body["service"]) for e in events if e.body.get("service")}
    if services:
        known.ns_tenants = dict(
            session.execute(
                select(NsInstanceRow.id, NsInstanceRow.tenant_id).where(
                    NsInstanceRow.id.in_(sorted(services))
                )
            ).all()
        )
    owners = {str(t) for r in statuses for t in r.body.get("overlay_peers") or {}}
    if owners:
        known.overlays = {
            tenant: overlay
            for overlay, tenant in session.execute(
                select(OverlayRow.id, OverlayRow.tenant_id).where(
                    OverlayRow.tenant_id.in_(sorted(owners))
                )
            )
        }
    return known


def _site_fault(
    kind: Kind,
    site: str,
    tenant: str,
    *,
    at: datetime,
    why: tuple[str, ...],
    extra: Mapping[str, Any] | None = None,
) -> Fault:
    return Fault(kind, component(site), ManagedObject.SITE, site, site, tenant,
                 fault_details=why, details=extra or {}, at=at)  # fmt: skip


def _link_fault(site: str, tenant: str, link: str, at: datetime, why: str) -> Fault:
    return Fault(Kind.LINK_DOWN, component(site, link=link), ManagedObject.SITE, site, site,
                 tenant, fault_details=(why,), at=at, link=link)  # fmt: skip


def _vnf_fault(
    kind: Kind,
    site: str,
    vnf: str,
    known: _Known,
    *,
    at: datetime,
    why: tuple[str, ...],
    extra: Mapping[str, Any] | None = None,
) -> Fault:
    """A VNF's fault (`vnf` is `SERVICE/NAME`): about its NS instance when the service is one
    (the NS instance's tenant's), else about the site."""
    ns, _, name = vnf.partition("/")
    if ns in known.ns_tenants:
        obj, owner, tenant = ManagedObject.NS, ns, known.ns_tenants[ns] or known.tenants[site]
    else:
        obj, owner, tenant = ManagedObject.SITE, site, known.tenants[site]
    return Fault(kind, component(site, vnf=vnf), obj, owner, site, tenant, vnf_instance_id=name,
                 fault_details=why, details=extra or {}, at=at)  # fmt: skip


def _figures(link: Mapping[str, Any]) -> dict[str, Any]:
    """The link's measured figures (kept in `details`: they change without an operator
    needing to hear of it)."""
    return {k: link[k] for k in ("latency_ms", "loss_percent", "jitter_ms") if k in link}


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
