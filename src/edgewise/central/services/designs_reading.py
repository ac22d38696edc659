"""An onboarded NSD read back as a design, to make its next version from: the VNFs in the
order of its forwarding path, each native one's properties as written (an input's default in
place of its get_input), the LAN and WAN access points it has."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from edgewise.central.services import catalog_content
from edgewise.central.services.access import Principal
from edgewise.central.services.catalog import CatalogKind
from edgewise.central.services.designs import LIMITS, read_nsd
from edgewise.central.services.designs_nsd import Design, DesignedFunction, Endpoint
from edgewise.central.services.errors import Conflict
from edgewise.model.functions import TOSCA_TYPES
from edgewise.tosca import Nsd, TypeCache, load_bytes
from edgewise.tosca.siteservice import chain_order
from edgewise.tosca.topology import NodeTemplate, Topology
from edgewise.tosca.yamltree import Node, plain

IDENTITY = frozenset(
    {
        "descriptor_id", "descriptor_version", "provider", "product_name", "software_version",
        "vnfm_info", "flavour_id", "flavour_description", "product_info_name",
        "product_info_description", "localization_languages", "default_localization_language",
    }
)  # fmt: skip


def design_of_nsd(session: Session, principal: Principal, nsd_id: str, types: TypeCache) -> Design:
    """The NSD as a design for its next version (a new descriptor id, the version moved on)."""
    item = read_nsd(session, principal, nsd_id)
    content = catalog_content.content(
        session, principal, CatalogKind.NSD, nsd_id, accept="text/plain, application/zip"
    )
    loaded = load_bytes(content.data, content.filename, LIMITS, types)
    nsd = loaded.descriptor
    if not isinstance(nsd, Nsd) or not loaded.topologies:
        raise Conflict(f"NS descriptor {nsd_id} no longer loads; it cannot be designed anew")
    topology = loaded.topologies[0]
    functions = tuple(
        _function(topology.nodes[name], topology)
        for name in chain_order(nsd)
        if name in topology.nodes
    )
    saps = set(nsd.sap)
    return Design(
        name=nsd.name,
        version=next_version(nsd.version),
        designer=nsd.designer,
        invariant_id=nsd.invariant_id,
        descriptor_id=str(uuid.uuid4()),
        functions=functions,
        lan=Endpoint(enabled="lan" in saps or len(saps) >= 1, description="Customer LAN side"),
        wan=Endpoint(enabled="wan" in saps or len(saps) >= 2, description="WAN side"),
        based_on=item.id,
    )


def _function(node: NodeTemplate, topology: Topology) -> DesignedFunction:
    ancestors = node.type.ancestors if node.type else ()
    native = next((name for name in ancestors if name in TOSCA_TYPES), None)
    if native is not None:
        properties = {
            key: _resolved(value, topology)
            for key, value in node.properties.items()
            if key not in IDENTITY
        }
        return DesignedFunction(node.name, "native", native, properties)
    vnfd_id = plain(node.properties["descriptor_id"]) if "descriptor_id" in node.properties else ""
    flavour = plain(node.properties["flavour_id"]) if "flavour_id" in node.properties else ""
    return DesignedFunction(node.name, "package", str(vnfd_id), {}, str(flavour or "default"))


def _resolved(node: Node, topology: Topology) -> object:
    """The value as written, with each get_input replaced by the input's default."""
    value = node.value
    if isinstance(value, dict):
        if set(value) == {"get_input"}:
            name = plain(value["get_input"])
            definition = topology.inputs.get(str(name))
            body = definition.value if definition is not None else None
            default = body.get("default") if isinstance(body, dict) else None
            if isinstance(default, Node):
                return plain(default)
            return None
        return {key: _resolved(child, topology) for key, child in value.items()}
    if isinstance(value, list):
        return [_resolved(child, topology) for child in value]
    return value


def next_version(version: str) -> str:
    """1.0 -> 1.1, 2 -> 3, v1.9 -> v1.10; anything else gets ".1" added."""
    head, dot, last = version.rpartition(".")
    if last.isdigit():
        return f"{head}{dot}{int(last) + 1}"
    return f"{version}.1" if version else "1.0"
