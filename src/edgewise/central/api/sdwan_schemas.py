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
