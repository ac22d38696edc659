"""What the services show the API: frozen values made from store rows in the transaction that
read them (tenants, users, tokens, sites, site groups and their status), so that routes format
values and never see a row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgewise.central.services.access import Role
from edgewise.central.store.tables import (
    ApiTokenRow,
    SiteGroupRow,
    SiteRow,
    SiteStatusRow,
    TenantRow,
    UserRow,
    aware,
)
from edgewise.model.sites import Capacity, SiteKind


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else aware(moment)


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    description: str
    created_at: datetime

    @classmethod
    def of(cls, row: TenantRow) -> Tenant:
        return cls(row.id, row.name, row.description, aware(row.created_at))


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: Role
    tenant_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(row.id, row.name, Role(row.role), row.tenant_id, aware(row.created_at))


@dataclass(frozen=True)
class ApiToken:
    """An API token as listed: its first characters (`prefix`), never the secret."""

    id: str
    name: str
    user_id: str
    tenant_id: str | None
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiTokenRow) -> ApiToken:
        return cls(
            row.id, row.name, row.user_id, row.tenant_id, row.prefix, aware(row.created_at),
            _aware(row.expires_at), _aware(row.revoked_at),
        )  # fmt: skip


@dataclass(frozen=True)
class SiteEnrollment:
    state: str  # pending (never enrolled), enrolled or revoked
    enrolled_at: datetime | None
    certificate_expires_at: datetime | None
    revoked_at: datetime | None
    token_expires_at: datetime | None

    @classmethod
    def of(cls, row: SiteRow) -> SiteEnrollment:
        state = "revoked" if row.revoked_at else "enrolled" if row.cert_serial else "pending"
        return cls(
            state, _aware(row.enrolled_at), _aware(row.cert_expires_at), _aware(row.revoked_at),
            _aware(row.enrollment_expires_at),
        )  # fmt: skip


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    kind: SiteKind
    tenant_id: str
    labels: dict[str, str]
    capacity: Capacity
    description: str
    created_at: datetime
    enrollment: SiteEnrollment

    @classmethod
    def of(cls, row: SiteRow) -> Site:
        return cls(
            row.id, row.name, SiteKind(row.kind), row.tenant_id, dict(row.labels),
            Capacity(row.compute_nodes, row.slots_per_node), row.description,
            aware(row.created_at), SiteEnrollment.of(row),
        )  # fmt: skip


@dataclass(frozen=True)
class SiteGroup:
    id: str
    name: str
    tenant_id: str
    site_ids: tuple[str, ...]  # sorted
    description: str
    created_at: datetime

    @classmethod
    def of(cls, row: SiteGroupRow) -> SiteGroup:
        members = tuple(sorted(member.site_id for member in row.members))
        return cls(row.id, row.name, row.tenant_id, members, row.description, aware(row.created_at))


@dataclass(frozen=True)
class SiteStatus:
    """A site's desired and applied revisions, its last report, and when it was last heard."""

    site_id: str
    desired_revision: int
    applied_revision: int
    state: str  # as the site reported it; unknown before its first report
    in_sync: bool
    reported_at: datetime | None
    last_seen_at: datetime | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, site_id: str, desired_revision: int, row: SiteStatusRow | None) -> SiteStatus:
        if row is None:
            return cls(site_id, desired_revision, 0, "unknown", in_sync=False, reported_at=None,
                       last_seen_at=None, detail={})  # fmt: skip
        in_sync = row.applied_revision == desired_revision and row.state == "converged"
        return cls(
            site_id, desired_revision, row.applied_revision, row.state, in_sync,
            _aware(row.reported_at), _aware(row.last_seen_at), dict(row.body),
        )  # fmt: skip
