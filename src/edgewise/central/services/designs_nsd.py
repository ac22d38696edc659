"""A design (a chain of functions, LAN to WAN) made into a SOL001 NSD document: pure, no I/O.

The service designer's values live here; `designs` validates the document with the catalog's
loader and publishes it. Node names are the design's function names; the links, SAPs and the
forwarding path (NFP, positions, elements) are named after them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from edgewise.central.services.errors import InputProblem

NSD_TYPES = "https://forge.etsi.org/rep/nfv/SOL001/raw/v3.3.1/etsi_nfv_sol001_nsd_types.yaml"
NS_NODE = "service"
NFP_NODE = "forwarding_path"
GRAPH = "forwarding_graph"
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
MAX_FUNCTIONS = 24
TEXT_MAX = 200
LINK_PROPERTIES: dict[str, Any] = {
    "connectivity_type": {"layer_protocols": ["ipv4"]},
    "vl_profile": {
        "max_bitrate_requirements": {"root": 1_000_000_000},
        "min_bitrate_requirements": {"root": 1_000_000},
    },
}
Source = Literal["native", "package"]


@dataclass(frozen=True)
class DesignedFunction:
    """One function of the chain: a native type (`type` = its TOSCA type) or an onboarded VNF
    package (`type` = its VNFD id, with the flavour chosen), and the properties set."""

    name: str
    source: Source
    type: str
    properties: Mapping[str, object] = field(default_factory=dict)
    flavour_id: str = "default"


@dataclass(frozen=True)
class Endpoint:
    """A service access point at one end of the chain (the LAN side or the WAN side)."""

    enabled: bool = True
    description: str = ""


@dataclass(frozen=True)
class Design:
    """A chain of functions from the LAN to the WAN, with the NSD's identity."""

    name: str
    version: str
    designer: str
    invariant_id: str
    descriptor_id: str
    functions: tuple[DesignedFunction, ...]
    lan: Endpoint = Endpoint(description="Customer LAN side")
    wan: Endpoint = Endpoint(description="WAN side")
    description: str = ""
    based_on: str | None = None  # the NSD (catalog item id) this is a new version of


@dataclass(frozen=True)
class PackageFunction:
    """What the NSD needs of an onboarded VNF package's VNFD to reference it."""

    item_id: str
    vnfd_id: str
    vnfd_version: str
    provider: str
    product_name: str
    software_version: str
    flavours: tuple[tuple[str, str], ...]  # (flavour id, description)


def link_names(count: int) -> tuple[str, ...]:
    """The virtual links of a chain of `count` functions, LAN side first."""
    inner = [f"link_{index}" for index in range(1, count)]
    return ("lan_link", *inner, "wan_link")


def reserved_names(design: Design) -> set[str]:
    names = {NS_NODE, NFP_NODE, "lan", "wan", *link_names(len(design.functions))}
    for function in design.functions:
        names |= {f"at_{function.name}", f"{function.name}_element"}
    return names


def check_design(design: Design, packages: Mapping[str, PackageFunction]) -> list[InputProblem]:
    """What makes the design unfit to be an NSD at all (before the loader sees it)."""
    problems = [
        InputProblem(key, "must not be empty")
        for key in ("name", "version", "designer", "invariant_id", "descriptor_id")
        if not str(getattr(design, key)).strip()
    ]
    if not design.functions:
        problems.append(InputProblem("functions", "add at least one function to the chain"))
    if len(design.functions) > MAX_FUNCTIONS:
        problems.append(InputProblem("functions", f"a chain has at most {MAX_FUNCTIONS} functions"))
    seen: set[str] = set()
    generated = reserved_names(design)  # (never a function's own name: at_x, x_element)
    for index, function in enumerate(design.functions):
        where = f"functions[{index}]"
        if not NAME.match(function.name):
            problems.append(
                InputProblem(
                    f"{where}.name",
                    f"{function.name!r} is not a node name: a letter, then letters, digits or _ "
                    "(at most 40)",
                )
            )
        elif function.name in seen:
            problems.append(InputProblem(f"{where}.name", f"{function.name!r} is used twice"))
        elif function.name in generated:
            problems.append(
                InputProblem(f"{where}.name", f"{function.name!r} names a node the NSD needs")
            )
        seen.add(function.name)
        if function.source == "package":
            package = packages.get(function.type)
            if package is None:
                problems.append(
                    InputProblem(
                        f"{where}.type",
                        f"no onboarded, enabled VNF package has VNFD {function.type!r}",
                    )
                )
            elif function.flavour_id not in {f for f, _ in package.flavours}:
                known = ", ".join(f for f, _ in package.flavours)
                problems.append(
                    InputProblem(
                        f"{where}.flavour_id",
                        f"VNFD {function.type} has no flavour {function.flavour_id!r} ({known})",
                    )
                )
    return problems


def nsd_document(design: Design, packages: Mapping[str, PackageFunction]) -> dict[str, Any]:
    """The SOL001 NSD of a design that passed `check_design`."""
    links = link_names(len(design.functions))
    nodes: dict[str, Any] = {
        NS_NODE: {
            "type": "tosca.nodes.nfv.NS",
            "properties": {
                "descriptor_id": design.descriptor_id,
                "designer": design.designer,
                "version": design.version,
                "name": design.name,
                "invariant_id": design.invariant_id,
                "flavour_id": "default",
            },
        }
    }
    for end, endpoint, link in (("lan", design.lan, links[0]), ("wan", design.wan, links[-1])):
        if endpoint.enabled:
            nodes[end] = {
                "type": "tosca.nodes.nfv.Sap",
                "properties": {"layer_protocols": ["ipv4"]}
                | ({"description": endpoint.description} if endpoint.description else {}),
                "requirements": [{"internal_virtual_link": link}],
            }
    for link in links:
        nodes[link] = {"type": "tosca.nodes.nfv.NsVirtualLink", "properties": LINK_PROPERTIES}
    for index, function in enumerate(design.functions):
        nodes[function.name] = _function_node(function, links[index], links[index + 1], packages)
    nodes[NFP_NODE] = {
        "type": "tosca.nodes.nfv.NFP",
        "requirements": [{"nfp_position": f"at_{f.name}"} for f in design.functions],
    }
    for function in design.functions:
        nodes[f"at_{function.name}"] = {
            "type": "tosca.nodes.nfv.NfpPosition",
            "requirements": [{"element": f"{function.name}_element"}],
        }
        nodes[f"{function.name}_element"] = {
            "type": "tosca.nodes.nfv.NfpPositionElement",
            "requirements": [{"profile_element": function.name}],
        }
    return {
        "tosca_definitions_version": "tosca_simple_yaml_1_3",
        "description": design.description or f"{design.name}, designed in the Edgewise portal",
        "metadata": {
            "template_name": design.invariant_id,
            "template_author": design.designer,
            "template_version": design.version,
        },
        "imports": [NSD_TYPES, "edgewise_types.yaml"],
        "topology_template": {
            "node_templates": nodes,
            "groups": {
                GRAPH: {
                    "type": "tosca.groups.nfv.VNFFG",
                    "properties": {"description": "LAN to WAN through the chain"},
                    "members": [NFP_NODE, *(f.name for f in design.functions)],
                }
            },
        },
    }


def _function_node(
    function: DesignedFunction, inside: str, outside: str, packages: Mapping[str, PackageFunction]
) -> dict[str, Any]:
    if function.source == "native":
        node: dict[str, Any] = {"type": function.type}
        if function.properties:
            node["properties"] = dict(function.properties)
        node["requirements"] = [{"inside": inside}, {"outside": outside}]
        return node
    package = packages[function.type]
    flavours = dict(package.flavours)
    return {
        "type": "tosca.nodes.nfv.VNF",
        "properties": {
            "descriptor_id": package.vnfd_id,
            "descriptor_version": package.vnfd_version,
            "provider": package.provider,
            "product_name": package.product_name,
            "software_version": package.software_version,
            "vnfm_info": ["edgewise"],
            "flavour_id": function.flavour_id,
            "flavour_description": flavours.get(function.flavour_id) or function.flavour_id,
        },
        "requirements": [{"virtual_link": inside}, {"virtual_link": outside}],
    }


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order written, no aliases (each link's properties in full)."""

    def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002 - PyYAML's signature
        return True


def nsd_yaml(document: Mapping[str, Any]) -> str:
    return yaml.dump(dict(document), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def field_of(path: str, design: Design) -> str:
    """The design's field a loader problem's path is about ("" when none is): a property of a
    function ("functions[0].properties.rules[1].port") or the NSD's identity ("version")."""
    nodes = "topology_template.node_templates."
    if not path.startswith(nodes):
        return ""
    rest = path[len(nodes) :]
    name, _, inner = rest.partition(".")
    if name == NS_NODE and inner.startswith("properties."):
        key = inner.removeprefix("properties.").split(".")[0].split("[")[0]
        return key if key in ("name", "version", "designer", "invariant_id") else ""
    for index, function in enumerate(design.functions):
        if function.name == name:
            return f"functions[{index}]" + (f".{inner}" if inner.startswith("properties") else "")
    return ""
