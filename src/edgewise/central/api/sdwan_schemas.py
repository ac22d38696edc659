"""Schemas of the SD-WAN routes (links, steering, overlays), camelCase on the wire. A link's,
a class's and an SLA profile's own fields are the desired-state contract's (its document form,
read by `edgewise.model`), so they are carried as objects here, never described twice."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from edgewise.central.api.schemas import Moment, Schema
from edgewise.central.orchestrator import links as link_cases

ContractObject = dict[str, Any]  # a section of the contract: edgewise.model reads it


class LinkReportPublic(Schema):
    state: str
    latency_ms: float | None
    loss_percent: float | None
    jitter_ms: float | None
    address: str | None
    since: Moment | None
    reported_at: Moment | None
    classes: dict[str, Any] = Field(description="per application class: packets and bytes")


class LinkPublic(Schema):
    site_id: str
    name: str
    desired: ContractObject = Field(description="the link as the site's desired state has it")
    reported: LinkReportPublic | None = Field(description="what the site last reported")

    @classmethod
    def of(cls, link: link_cases.Link) -> LinkPublic:
        reported = None if link.reported is None else LinkReportPublic.model_validate(link.reported)
        return cls(site_id=link.site_id, name=link.name, desired=link.spec, reported=reported)


Scope = Literal["fleet", "site", "tenant"]


class NamedPublic(Schema):
    """An SLA profile or an application class: its name and its contract fields."""

    name: str
    spec: ContractObject


class ApplicationPublic(Schema):
    """An application of the shipped catalogue: what a class's `applications` may name."""

    name: str
    app_id: int = Field(description="its id in a flow's conntrack mark (docs/dpi.md)")
    category: str
    description: str


class PolicyCreate(Schema):
    """A policy at a scope: `fleet`, `site` (with siteId), or `tenant` (a tenant's own
    preference, within the bounds the operator set; tenantId defaults to the caller's)."""

    scope: Scope
    site_id: str | None = None
    tenant_id: str | None = None
    class_name: str = Field(alias="class", max_length=256)
    links: list[str] = Field(max_length=64, description="link names, in order of preference")
    sla: str | None = Field(default=None, max_length=256)
    spread: bool = False


class PolicyUpdate(Schema):
    links: list[str] | None = Field(default=None, max_length=64)
    sla: str | None = Field(default=None, max_length=256, description="null: no SLA profile")
    spread: bool | None = None


class PolicyPublic(Schema):
    id: str
    scope: Scope
    site_id: str | None
    tenant_id: str | None
    class_name: str = Field(alias="class")
    links: list[str]
    sla: str | None
    spread: bool


class BoundItem(Schema):
    """What a tenant may prefer for a class: the links it may use; whether it may set the SLA."""

    class_name: str = Field(alias="class", max_length=256)
    links: list[str] = Field(max_length=64)
    may_change_sla: bool = False


class LeftOutPublic(Schema):
    scope: Scope
    class_name: str = Field(alias="class")
    reason: str


class SiteSteeringPublic(Schema):
    """The steering a site's document carries, and the policies left out there and why."""

    site_id: str
    steering: ContractObject | None
    left_out: list[LeftOutPublic]


class OverlayCreate(Schema):
    """A tenant's overlay: its topology, inner prefix (the members' addresses), hubs (site
    ids, hub-and-spoke), members by id and/or a label selector (read once, at creation)."""

    tenant_id: str
    name: str = Field(max_length=64)
    topology: Literal["hub-and-spoke", "full-mesh"]
    prefix: str = Field(max_length=18, description="e.g. 10.200.0.0/16")
    hubs: list[str] = Field(default_factory=list, max_length=64)
    sites: list[str] = Field(default_factory=list, max_length=4097)
    selector: str | None = Field(default=None, max_length=1024, description="key=value[,...]")
    base_port: int = Field(default=51820, ge=1, le=65527, description="a member's first port")
    key_rotation_h: int = Field(default=168, ge=0, le=8760, description="0: never")


class OverlayJoin(Schema):
    site_ids: list[str] = Field(min_length=1, max_length=4097)
    links: list[str] | None = Field(
        default=None, max_length=8, description="the links they ride (default: all of theirs)"
    )


class MemberPublic(Schema):
    site_id: str
    site_name: str
    role: str
    address: str
    links: list[str] = Field(description="the links it rides now")
    rides: list[str] | None = Field(description="the links it was given (null: all)")
    public_key: str | None = Field(description="its public key, once it reported one")
    state: str = Field(description="ready, waiting for its key, or no WAN links to ride")


class OverlayPublic(Schema):
    id: str
    tenant_id: str
    name: str
    topology: str
    prefix: str
    hubs: list[str]
    base_port: int
    key_rotation_h: int
    created_at: Moment
    members: list[MemberPublic]
