"""What the services hand the API (tenants, users, tokens, sites, groups, status, catalog items,
subscriptions): frozen values made from rows in the transaction that read them, never a row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgewise.central.services.access import Role
from edgewise.central.store.tables import (
    ApiTokenRow,
    LccnSubscriptionRow,
    SiteGroupRow,
    SiteRow,
    TenantRow,
    UserRow,
    aware,
    aware_or_none,
    last_contact,
    utcnow,
)
from edgewise.model.sites import Capacity, Presence, SiteKind


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
            aware_or_none(row.expires_at), aware_or_none(row.revoked_at),
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
            state, aware_or_none(row.enrolled_at), aware_or_none(row.cert_expires_at),
            aware_or_none(row.revoked_at), aware_or_none(row.enrollment_expires_at),
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
    presence: Presence
    last_contact_at: datetime | None

    @classmethod
    def of(cls, row: SiteRow) -> Site:
        """The site as it is now (its status row is loaded on access, or with the query)."""
        seen = row.status.last_seen_at if row.status is not None else None
        presence = Presence.of(aware_or_none(row.enrolled_at), aware_or_none(seen), utcnow())
        return cls(
            row.id, row.name, SiteKind(row.kind), row.tenant_id, dict(row.labels),
            Capacity(row.compute_nodes, row.slots_per_node), row.description,
            aware(row.created_at), SiteEnrollment.of(row), presence,
            last_contact(row.enrolled_at, seen),
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
    """A site's desired and applied revisions, its last report, its presence and when it was
    last heard. In sync: online, converged, and at its desired revision — a site whose
    controller stopped is not in sync, whatever it last said."""

    site_id: str
    desired_revision: int
    applied_revision: int
    state: str  # as the site reported it; unknown before its first report
    presence: Presence
    in_sync: bool
    reported_at: datetime | None
    last_seen_at: datetime | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, site: SiteRow, desired_revision: int) -> SiteStatus:
        row = site.status
        seen = row.last_seen_at if row is not None else None
        presence = Presence.of(aware_or_none(site.enrolled_at), aware_or_none(seen), utcnow())
        if row is None:
            return cls(site.id, desired_revision, 0, "unknown", presence, in_sync=False,
                       reported_at=None, last_seen_at=None, detail={})  # fmt: skip
        in_sync = in_sync_now(presence, desired_revision, row.applied_revision, row.state)
        return cls(
            site.id, desired_revision, row.applied_revision, row.state, presence, in_sync,
            aware_or_none(row.reported_at), aware_or_none(row.last_seen_at), dict(row.body),
        )  # fmt: skip


def in_sync_now(presence: Presence, desired: int, applied: int, state: str | None) -> bool:
    return presence is Presence.ONLINE and desired == applied and state == "converged"


@dataclass(frozen=True)
class NsdDescription:
    """What an onboarded NS descriptor declares (from the catalog item's summary)."""

    nsd_id: str
    name: str
    version: str
    designer: str
    invariant_id: str
    vnf_pkg_ids: tuple[str, ...]

    @classmethod
    def of(cls, summary: Mapping[str, Any]) -> NsdDescription:
        descriptor_id = str(summary["descriptorId"])
        return cls(
            descriptor_id,
            summary.get("nsdName") or descriptor_id,
            summary.get("nsdVersion") or "",
            summary.get("nsdDesigner") or "",
            summary.get("nsdInvariantId") or descriptor_id,
            tuple(summary.get("vnfPkgIds", [])),
        )

    def attributes(self) -> dict[str, Any]:
        """As SOL005 names them, in NsdInfo and in notification filters alike."""
        return {
            "nsdId": self.nsd_id,
            "nsdName": self.name,
            "nsdVersion": self.version,
            "nsdDesigner": self.designer,
            "nsdInvariantId": self.invariant_id,
            "vnfPkgIds": list(self.vnf_pkg_ids),
        }


@dataclass(frozen=True)
class VnfdDescription:
    """What the VNFD of an onboarded VNF package declares."""

    vnfd_id: str
    provider: str
    product_name: str
    software_version: str
    vnfd_version: str

    @classmethod
    def of(cls, summary: Mapping[str, Any]) -> VnfdDescription:
        return cls(
            str(summary["descriptorId"]),
            summary.get("vnfProvider") or "",
            summary.get("vnfProductName") or "",
            summary.get("vnfSoftwareVersion") or "",
            summary.get("vnfdVersion") or "",
        )

    def attributes(self) -> dict[str, Any]:
        """As SOL005 names them, in VnfPkgInfo and in notification filters alike."""
        return {
            "vnfdId": self.vnfd_id,
            "vnfProvider": self.provider,
            "vnfProductName": self.product_name,
            "vnfSoftwareVersion": self.software_version,
            "vnfdVersion": self.vnfd_version,
        }


@dataclass(frozen=True)
class Artifact:
    """One file of an onboarded package, by its path inside the package."""

    path: str
    sha256: str


@dataclass(frozen=True)
class DescriptorWarning:
    """A tolerated deviation of onboarded content: where (file:line:column path), its stable
    code, and what it is."""

    where: str
    code: str
    message: str

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> DescriptorWarning:
        return cls(str(entry["where"]), str(entry["code"]), str(entry["message"]))


@dataclass(frozen=True)
class CatalogItem:
    """An NS descriptor or a VNF package of the catalog; `descriptor` once it is onboarded,
    with the `warnings` its content was onboarded with."""

    id: str
    tenant_id: str | None  # None: the provider's shared catalog
    onboarding_state: str
    operational_state: str
    usage_state: str
    user_defined_data: dict[str, Any]
    failure: dict[str, Any] | None  # why the last upload did not onboard (ProblemDetails)
    descriptor: NsdDescription | VnfdDescription | None
    checksum: str | None  # SHA-256 of the content
    artifacts: tuple[Artifact, ...]
    warnings: tuple[DescriptorWarning, ...] = ()


@dataclass(frozen=True)
class Subscription:
    """A subscription to one API's notifications (the API is the caller's to know)."""

    id: str
    tenant_id: str | None  # None: the provider's, which hears of every tenant's objects
    callback_uri: str
    filter: dict[str, Any]

    @classmethod
    def of(cls, row: LccnSubscriptionRow) -> Subscription:
        return cls(row.id, row.tenant_id, row.callback_uri, dict(row.filter))
