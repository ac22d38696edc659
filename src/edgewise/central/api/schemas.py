"""Schema families of the native API (Create, Update, Public per entity), camelCase on the wire.
A Public schema is made `of` the view a service returns (`services.views`), never of a row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from edgewise.central.services import views
from edgewise.central.services.access import Role
from edgewise.model.sites import MAX_LABELS, NAME_PATTERN, Presence, SiteKind, label_problem

Name = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN.pattern,
        description="1-63 lower-case letters, digits, '-'; starts and ends with a letter or digit",
    ),
]
Description = Annotated[str, Field(max_length=1024)]


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    if len(labels) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} labels")
    for key, value in labels.items():
        problem = label_problem(key, value)
        if problem:
            raise ValueError(problem)
    return labels


Labels = Annotated[dict[str, str], AfterValidator(_check_labels)]


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


Moment = Annotated[datetime, AfterValidator(utc)]


class Schema(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", from_attributes=True
    )


class TenantCreate(Schema):
    name: Name
    description: Description = ""


class TenantPublic(Schema):
    id: str
    name: str
    description: str
    created_at: Moment

    @classmethod
    def of(cls, tenant: views.Tenant) -> TenantPublic:
        return cls.model_validate(tenant)


class UserCreate(Schema):
    name: Name
    role: Role = Role.TENANT
    tenant_id: str | None = None


class UserPublic(Schema):
    id: str
    name: str
    role: Role
    tenant_id: str | None
    created_at: Moment

    @classmethod
    def of(cls, user: views.User) -> UserPublic:
        return cls.model_validate(user)


class PasswordSet(Schema):
    password: str = Field(min_length=12, max_length=256, description="the portals' password")


class TokenCreate(Schema):
    name: Name
    user_id: str | None = Field(default=None, description="default: the caller")
    lifetime_days: int | None = Field(default=None, ge=1, le=3650)


class TokenPublic(Schema):
    id: str
    name: str
    user_id: str
    tenant_id: str | None
    prefix: str
    created_at: Moment
    expires_at: Moment | None
    revoked_at: Moment | None

    @classmethod
    def of(cls, token: views.ApiToken) -> TokenPublic:
        return cls.model_validate(token)


class TokenIssued(Schema):
    """The new token: `token` is shown this once and never again."""

    id: str
    name: str
    user_id: str
    token: str
    expires_at: Moment | None


class SiteCreate(Schema):
    name: Name
    kind: SiteKind
    labels: Labels = Field(default_factory=dict)
    compute_nodes: int = Field(default=1, ge=1, le=10_000)
    slots_per_node: int | None = Field(
        default=None, ge=1, le=10_000, description="default: 2 on-premise, 20 per cloud node"
    )
    description: Description = ""
    tenant_id: str | None = None


class SiteBatchCreate(Schema):
    sites: list[SiteCreate] = Field(min_length=1, max_length=10_000)


class SiteUpdate(Schema):
    labels: Labels | None = None
    compute_nodes: int | None = Field(default=None, ge=1, le=10_000)
    slots_per_node: int | None = Field(default=None, ge=1, le=10_000)
    description: Description | None = None


class SiteCapacity(Schema):
    compute_nodes: int
    slots_per_node: int
    vnf_slots: int


class SiteEnrollment(Schema):
    state: str = Field(description="pending (never enrolled), enrolled or revoked")
    enrolled_at: Moment | None
    certificate_expires_at: Moment | None
    revoked_at: Moment | None
    token_expires_at: Moment | None


class SitePublic(Schema):
    id: str
    name: str
    kind: SiteKind
    tenant_id: str
    labels: dict[str, str]
    capacity: SiteCapacity
    description: str
    created_at: Moment
    enrollment: SiteEnrollment
    presence: Presence = Field(
        description="online: heard from within the last 2 minutes; offline: enrolled but not "
        "heard from since; never-enrolled: no controller has claimed its token"
    )
    last_contact_at: Moment | None

    @classmethod
    def of(cls, site: views.Site) -> SitePublic:
        return cls.model_validate(site)


class EnrollmentTokenPublic(Schema):
    """A one-time enrollment token: shown once; give it to the site with the CA fingerprint."""

    site_id: str
    token: str
    expires_at: Moment
    ca_fingerprint: str


class SiteCreated(SitePublic):
    enrollment_token: EnrollmentTokenPublic


class DesiredStatePublic(Schema):
    site_id: str
    revision: int
    document: dict[str, Any]


class BulkDesiredState(Schema):
    site_ids: list[str] = Field(min_length=1, max_length=100_000)
    document: dict[str, Any]


class SiteStatusPublic(Schema):
    site_id: str
    desired_revision: int
    applied_revision: int
    state: str
    presence: Presence
    in_sync: bool = Field(description="online, converged, and the applied revision is the desired")
    reported_at: Moment | None
    last_seen_at: Moment | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, status: views.SiteStatus) -> SiteStatusPublic:
        return cls.model_validate(status)


class SiteGroupCreate(Schema):
    name: Name
    site_ids: list[str] = Field(default_factory=list, max_length=100_000)
    description: Description = ""
    tenant_id: str | None = None


class SiteGroupUpdate(Schema):
    site_ids: list[str] | None = Field(default=None, max_length=100_000)
    description: Description | None = None


class SiteGroupPublic(Schema):
    id: str
    name: str
    tenant_id: str
    site_ids: list[str]
    description: str
    created_at: Moment

    @classmethod
    def of(cls, group: views.SiteGroup) -> SiteGroupPublic:
        return cls.model_validate(group)


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)
