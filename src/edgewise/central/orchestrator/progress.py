"""How far an operation got: each target site's last status against the revision the operation
waits for there, and whether the site is there to apply it at all (its presence): a site that
is offline or never enrolled fails the operation at once, with that reason, instead of at the
deadline — except that taking an NS off a site that never enrolled needs nothing from it.
Read as plain columns (the report body only of degraded sites: the only case that can fail an
operation), for thousands of operations at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.store.bulk import chunks
from edgewise.central.store.tables import (
    SiteRow,
    SiteStatusRow,
    aware,
    aware_or_none,
    last_contact,
    utcnow,
)
from edgewise.model.sites import Presence, absence


@dataclass(frozen=True)
class SiteProgress:
    """What a site's last status says, as far as operations care: the revision it applied,
    and its report when it is degraded."""

    applied_revision: int
    degraded: dict[str, Any] | None
    presence: Presence = Presence.ONLINE
    last_contact: datetime | None = None


@dataclass(frozen=True)
class Progress:
    done: int
    failed: dict[str, str]  # site -> why
    pending: list[str]
    absent: tuple[str, ...] = ()  # those failed because they are not there (offline, deleted)

    @property
    def total(self) -> int:
        return self.done + len(self.failed) + len(self.pending)

    def error(self, deadline: datetime) -> dict[str, Any]:
        """The operation's ProblemDetails when it ends FAILED_TEMP with this progress."""
        if self.failed:
            failures = sorted(self.failed.items())[:10]
            detail = f"{len(self.failed)} of {self.total} sites failed to apply the change: "
            detail += "; ".join(f"site {site}: {why}" for site, why in failures)
        else:
            detail = (
                f"timed out: {len(self.pending)} of {self.total} sites did not report the "
                f"change applied before {aware(deadline).isoformat()} (first: "
                + ", ".join(self.pending[:10])
                + ")"
            )
        return {"status": 500, "title": "the operation did not complete", "detail": detail}


def statuses(
    session: Session, site_ids: Sequence[str], now: datetime | None = None
) -> dict[str, SiteProgress]:
    """The sites' progress and presence, read as plain columns (a deleted site is absent)."""
    moment = now or utcnow()
    found: dict[str, SiteProgress] = {}
    s = SiteStatusRow
    degraded: list[str] = []
    for chunk in chunks(list(dict.fromkeys(site_ids))):
        query = (
            select(SiteRow.id, s.applied_revision, s.state, SiteRow.enrolled_at, s.last_seen_at)
            .outerjoin(s, s.site_id == SiteRow.id)
            .where(SiteRow.id.in_(chunk))
        )
        for site_id, applied, state, enrolled_at, seen in session.execute(query):
            presence = Presence.of(aware_or_none(enrolled_at), aware_or_none(seen), moment)
            contact = last_contact(enrolled_at, seen)
            found[site_id] = SiteProgress(applied or 0, None, presence, contact)
            if state == "degraded":
                degraded.append(site_id)
    for chunk in chunks(degraded):
        for site_id, body in session.execute(select(s.site_id, s.body).where(s.site_id.in_(chunk))):
            if isinstance(body, dict):
                found[site_id] = replace(found[site_id], degraded=body)
    return found


def progress_of(
    ns_id: str,
    targets: Mapping[str, int],
    known: Mapping[str, SiteProgress],
    *,
    removing: bool = False,
) -> Progress:
    """The progress of an operation on NS `ns_id` that waits for `targets` {site: revision}.
    `removing`: the operation takes the NS off its sites (a terminate, a rollback), so a site
    that never enrolled is done (it will get its current desired state when it comes)."""
    done = 0
    failed: dict[str, str] = {}
    pending: list[str] = []
    absent: list[str] = []
    for site_id, revision in targets.items():
        status = known.get(site_id)
        if status is None:
            failed[site_id] = "the site was deleted"
            absent.append(site_id)
            continue
        why = failure(status.degraded, ns_id, revision)
        if why is not None:
            failed[site_id] = why
        elif status.applied_revision >= revision or (
            removing and status.presence is Presence.NEVER_ENROLLED
        ):
            done += 1
        elif (why_absent := absence(status.presence, status.last_contact)) is not None:
            failed[site_id] = why_absent
            absent.append(site_id)
        else:
            pending.append(site_id)
    return Progress(done, failed, pending, tuple(absent))


def read_progress(session: Session, ns_id: str, targets: Mapping[str, int]) -> Progress:
    return progress_of(ns_id, targets, statuses(session, list(targets)))


def failure(body: dict[str, Any] | None, service_id: str, revision: int) -> str | None:
    """Why the site failed this revision, if its last (degraded) status says so."""
    if body is None:
        return None
    reported = body.get("revision")
    if not isinstance(reported, int) or reported < revision:
        return None
    for service in body.get("services") or []:
        if (
            isinstance(service, dict)
            and service.get("id") == service_id
            and service.get("state") == "failed"
        ):
            return str(body.get("error") or "the service failed")
    return None
