"""What the orchestrator shows of NS instances and operation occurrences: frozen values made from
the rows in the transaction that read them, so the API formats values, never store rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgewise.central.orchestrator.states import NsState
from edgewise.central.store.tables import NsInstanceRow, NsLcmOpOccRow, aware


@dataclass(frozen=True)
class ScaleLevel:
    aspect_id: str
    level: int


@dataclass(frozen=True)
class VnfInstance:
    """One VNF an NS instance runs (SOL005 VnfInstance): its id is its name in the NS."""

    id: str
    function: str  # the contract's VnfFunction: a native function, or "software"
    vnfd_id: str
    provider: str
    product: str
    software_version: str
    vnfd_version: str
    package_id: str  # "" for a native function (it comes with Edgewise, from no package)
    flavour_id: str
    properties: dict[str, Any]  # what MODIFY_VNF_INFORMATION changes: params, or the config
    profile: str | None  # the NSD's VNF profile it comes from; None: added by an NS update


@dataclass(frozen=True)
class NsInstance:
    id: str
    name: str
    description: str
    nsd_id: str
    nsd_info_id: str
    state: NsState
    tenant_id: str | None
    sites: tuple[str, ...]
    flavour_id: str | None
    scale_levels: tuple[ScaleLevel, ...]
    vnfs: tuple[VnfInstance, ...] | None = None  # None: not read (lists leave them out)

    @classmethod
    def of(cls, row: NsInstanceRow, vnfs: tuple[VnfInstance, ...] | None = None) -> NsInstance:
        running = set(row.site_ids)
        levels = (
            tuple(
                ScaleLevel(aspect, sum(site in running for site in sites))
                for aspect, sites in sorted((row.scale_status or {}).items())
            )
            if row.state == NsState.INSTANTIATED
            else ()
        )
        return cls(
            row.id, row.name, row.description, row.nsd_id, row.nsd_info_id,
            NsState(row.state), row.tenant_id, tuple(row.site_ids), row.flavour_id, levels,
            vnfs,
        )  # fmt: skip


@dataclass(frozen=True)
class LcmOperation:
    id: str
    ns_instance_id: str
    operation: str
    state: str
    started: datetime
    state_entered: datetime
    params: dict[str, Any]
    error: dict[str, Any] | None
    sites_total: int
    sites_done: int

    @classmethod
    def of(cls, row: NsLcmOpOccRow) -> LcmOperation:
        return cls(
            row.id, row.ns_instance_id, row.operation, row.state, aware(row.start_time),
            aware(row.state_entered_time), dict(row.operation_params or {}),
            row.error, len(row.targets), row.sites_done,
        )  # fmt: skip
