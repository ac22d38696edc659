"""How far an operation got: each target site's last status against the revision the operation
waits for there. Read as plain columns (the report body only of degraded sites: the only case
that can fail an operation), for thousands of operations at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edgewise.central.store.bulk import chunks
from edgewise.central.store.tables import SiteStatusRow, aware


@dataclass(frozen=True)
class SiteProgress:
    """What a site's last status says, as far as operations care: the revision it applied,
    and its report when it is degraded."""

    applied_revision: int
    degraded: dict[str, Any] | None


@dataclass(frozen=True)
class Progress:
    done: int
    failed: dict[str, str]  # site -> why
    pending: list[str]

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


def statuses(session: Session, site_ids: Sequence[str]) -> dict[str, SiteProgress]:
    """The sites' progress, read as plain columns."""
    found: dict[str, SiteProgress] = {}
    s = SiteStatusRow
    degraded: list[str] = []
    for chunk in chunks(list(dict.fromkeys(site_ids))):
        for site_id, applied, state in session.execute(
            select(s.site_id, s.applied_revision, s.state).where(s.site_id.in_(chunk))
        ):
            found[site_id] = SiteProgress(applied, None)
            if state == "degraded":
                degraded.append(site_id)
    for chunk in chunks(degraded):
        for site_id, body in session.execute(select(s.site_id, s.body).where(s.site_id.in_(chunk))):
            if isinstance(body, dict):
                found[site_id] = SiteProgress(found[site_id].applied_revision, body)
    return found


def progress_of(
    ns_id: str, targets: Mapping[str, int], known: Mapping[str, SiteProgress]
) -> Progress:
    """The progress of an operation on NS `ns_id` that waits for `targets` {site: revision}."""
    done = 0
    failed: dict[str, str] = {}
    pending: list[str] = []
    for site_id, revision in targets.items():
        status = known.get(site_id)
        why = failure(status.degraded, ns_id, revision) if status is not None else None
        if why is not None:
            failed[site_id] = why
        elif status is not None and status.applied_revision >= revision:
            done += 1
        else:
            pending.append(site_id)
    return Progress(done, failed, pending)


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
