"""An independent hand reading of a sample package's VNFD into the SoftwareConfig contract, with
plain YAML and none of tosca.software: the oracle tests/tosca/test_software.py compares the
central's mapping against. (The samples' traffic proofs run the real path: tests/samples/site.py.)
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from edgewise.model.fields import read
from edgewise.model.software import SoftwareConfig
from tests.samples.csar import vnfd_path

_FILE_TYPES = {
    "tosca.artifacts.template": (True, 0o644),
    "tosca.artifacts.File": (False, 0o644),
    "tosca.artifacts.Implementation.Bash": (False, 0o755),
}


def software_config(package: Path, params: Mapping[str, str]) -> SoftwareConfig:
    """The package's VNF as the contract carries it, `params` over the inputs' defaults."""
    vnfd: dict[str, Any] = yaml.safe_load(vnfd_path(package).read_text())
    topology = vnfd["topology_template"]
    nodes: dict[str, dict[str, Any]] = topology["node_templates"]
    vnf = next(n for n in nodes.values() if "descriptor_id" in n.get("properties", {}))
    props = vnf["properties"]
    reload, _, reload_signal = (
        vnf.get("metadata", {}).get("edgewise.reload", "restart").partition(":")
    )
    values = {k: str(v["default"]) for k, v in topology.get("inputs", {}).items() if "default" in v}
    values.update(params)
    programs, packages = [], {}
    for node in nodes.values():
        if node["type"] == "tosca.nodes.nfv.Vdu.Compute":
            programs.append(_program(node))
            image = node["properties"]["sw_image_data"]
            packages[image["name"]] = image["version"]
            for extra in node.get("metadata", {}).get("edgewise.packages", "").split():
                packages.setdefault(extra, "any")
    files, by_name = [], {}
    for name, artifact in vnf.get("artifacts", {}).items():
        template, mode = _FILE_TYPES[artifact["type"]]
        content = (package / artifact["file"]).read_text()
        path = artifact.get("deploy_path", artifact["file"])
        by_name[name] = path
        files.append(
            {
                "path": path,
                "content": content,
                "template": template,
                "mode": mode,
                "sha256": hashlib.sha256(content.encode()).hexdigest(),
            }
        )
    hooks = []
    for operation, spec in vnf.get("interfaces", {}).get("Vnflcm", {}).items():
        implementation = spec["implementation"]
        primary = implementation["primary"] if isinstance(implementation, dict) else implementation
        hook = {"operation": operation, "command": ["${root}/" + by_name[primary]]}
        if isinstance(implementation, dict) and "timeout" in implementation:
            hook["timeout_s"] = implementation["timeout"]
        hooks.append(hook)
    document = {
        "vnfd_id": props["descriptor_id"],
        "vnfd_version": props["descriptor_version"],
        "provider": props["provider"],
        "product": props["product_name"],
        "programs": programs,
        "packages": [
            {"name": k} | ({} if v == "any" else {"version": v}) for k, v in packages.items()
        ],
        "files": files,
        "hooks": hooks,
        "params": values,
        "reload": reload,
    } | ({"reload_signal": reload_signal} if reload_signal else {})
    return read(SoftwareConfig, document)


def _program(node: dict[str, Any]) -> dict[str, Any]:
    props, meta = node["properties"], node.get("metadata", {})
    boot = props["boot_data"]
    program: dict[str, Any] = {
        "name": props["name"],
        "command": shlex.split(boot) if isinstance(boot, str) else boot,
        "restart": meta.get("edgewise.restart", "always"),
        "capabilities": meta.get("edgewise.capabilities", "").split(),
    }
    kind, _, rest = meta.get("edgewise.ready", "").partition(":")
    if kind == "command":
        program["ready"] = {"kind": kind, "command": shlex.split(rest)}
    elif kind:
        program["ready"] = {"kind": kind, "port": int(rest)}
    compute = node["capabilities"]["virtual_compute"]["properties"]
    cpus = compute["virtual_cpu"]["num_virtual_cpu"]
    program["cpu_millis"] = int(meta.get("edgewise.cpu_millis", cpus * 1000))
    size, unit = compute["virtual_memory"]["virtual_mem_size"].split()
    program["memory_mib"] = int(size) * {"MiB": 1, "GiB": 1024}[unit]
    return program
