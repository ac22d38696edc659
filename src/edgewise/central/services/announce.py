"""What a transaction announces once it commits: new revisions, and sites whose credentials
changed. Services note them on the session; the runtime's commit hook delivers them (to the
revision hub and the channel's caches here, and to other replicas through the store)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

REVISIONS_KEY = "edgewise.revisions"
SITES_KEY = "edgewise.sites-changed"
WORK_KEY = "edgewise.work-queued"
STATUSES = "statuses"  # site statuses recorded: operations may have moved on
NOTIFICATIONS = "notifications"  # notifications queued for delivery


def revision_written(
    session: Session, site_id: str, revision: int, document: dict[str, Any] | None
) -> None:
    session.info.setdefault(REVISIONS_KEY, {})[site_id] = (revision, document)


def site_credentials_changed(session: Session, site_id: str) -> None:
    """Enrolled, revoked or deleted: any cached authorization of the site is stale."""
    session.info.setdefault(SITES_KEY, set()).add(site_id)


def peek(session: Session) -> tuple[dict[str, tuple[int, Any]], set[str]]:
    """What the transaction will announce, left in place for `take`."""
    return session.info.get(REVISIONS_KEY, {}), session.info.get(SITES_KEY, set())


def take(session: Session) -> tuple[dict[str, tuple[int, Any]], set[str]]:
    """What the committed transaction announced (and forgets it)."""
    return session.info.pop(REVISIONS_KEY, {}), session.info.pop(SITES_KEY, set())


def forget(session: Session) -> None:
    session.info.pop(REVISIONS_KEY, None)
    session.info.pop(SITES_KEY, None)
    session.info.pop(WORK_KEY, None)


def work_queued(session: Session, kind: str) -> None:
    """Wakes, once the transaction commits, this replica's worker for `kind` (a backstop timer
    covers work queued by other replicas)."""
    session.info.setdefault(WORK_KEY, set()).add(kind)


def take_work(session: Session) -> set[str]:
    found: set[str] = session.info.pop(WORK_KEY, set())
    return found
