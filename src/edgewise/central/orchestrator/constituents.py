"""The VNF instances an NS instance is made of (SOL005 NsInstance.vnfInstance), read from the
desired state of one of its sites (they all hold the same entry): the NSD's VNFs and those NS
updates added, in chain order. A VNF instance's id is its name in the NS."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from edgewise import __version__
from edgewise.central.orchestrator import documents, software
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.orchestrator.states import NsState
from edgewise.central.orchestrator.views import VnfInstance
from edgewise.central.store.tables import CatalogItemRow, NsInstanceRow
from edgewise.model.functions import VnfFunction
from edgewise.tosca import VnfProfile


def vnf_instances(
    session: Session, nsds: NsdModels, rows: Sequence[NsInstanceRow]
) -> dict[str, tuple[VnfInstance, ...]]:
    """Each NS instance's VNF instances, by NS id (none for one not instantiated)."""
    first = {row.id: row.site_ids[0] for row in rows
             if row.state == NsState.INSTANTIATED and row.site_ids}  # fmt: skip
    held = documents.get_documents(session, list(dict.fromkeys(first.values())))
    packages: dict[tuple[str, str | None], CatalogItemRow | None] = {}

    def package(vnfd_id: str, tenant_id: str | None) -> CatalogItemRow | None:
        key = (vnfd_id, tenant_id)
        if key not in packages:
            packages[key] = software.package_of(session, vnfd_id, tenant_id, enabled=False)[0]
        return packages[key]

    found: dict[str, tuple[VnfInstance, ...]] = {}
    for row in rows:
        entry = documents.entry(held[first[row.id]].document, row.id) if row.id in first else None
        if entry is None:
            found[row.id] = ()
            continue
        profiles = {p.node: p for p in nsds.of_instance(session, row).vnf_profiles}
        by_name = {v["name"]: v for v in entry.get("vnfs", [])}
        order = [*entry.get("chain", []), *(n for n in by_name if n not in entry.get("chain", []))]
        found[row.id] = tuple(
            _instance(vnf, profiles.get(name), nsds, package(
                str(vnf["config"].get("vnfd_id", "")), row.tenant_id
            ) if vnf["function"] == VnfFunction.SOFTWARE.value else None)
            for name in order if (vnf := by_name.get(name)) is not None
        )  # fmt: skip
    return found


def _instance(
    vnf: Mapping[str, Any],
    profile: VnfProfile | None,
    nsds: NsdModels,
    package: CatalogItemRow | None,
) -> VnfInstance:
    name, function, config = vnf["name"], str(vnf["function"]), dict(vnf.get("config", {}))
    if function != VnfFunction.SOFTWARE.value:
        vnfd_id = (profile.vnfd_id or profile.type_name) if profile else f"edgewise.{function}"
        return VnfInstance(name, function, vnfd_id, "Edgewise", function, __version__,
                           __version__, "", profile.flavour_id if profile else "default",
                           config, profile.node if profile else None)  # fmt: skip
    from_nsd = profile is not None and profile.function is None
    flavours = [f.flavour_id for f in nsds.vnfd(package).flavours] if package else []
    flavour = profile.flavour_id if profile is not None and from_nsd else next(iter(flavours), "")
    return VnfInstance(
        name, function, str(config.get("vnfd_id", "")), str(config.get("provider", "")),
        str(config.get("product", "")),
        str(package.summary.get("vnfSoftwareVersion", "")) if package else "",
        str(config.get("vnfd_version", "")), package.id if package else "", flavour,
        dict(config.get("params", {})), profile.node if profile and from_nsd else None,
    )  # fmt: skip
