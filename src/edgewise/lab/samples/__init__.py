"""The sample catalog, shipped as package data: the vCPE NSD (firewall, then NAT) and the router
VNF package (a CSAR directory). The demo onboards it; the tests, the benchmarks and the
conformance run read it from wherever Edgewise is installed, through `path()`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from edgewise.lab.errors import LabError

VCPE_NSD = "vcpe-nsd.yaml"
ROUTER_VNF = "edgewise-router-vnf"
CATALOG = (ROUTER_VNF, VCPE_NSD)  # in the order the demo onboards them


def path(*parts: str) -> Path:
    """The samples' directory on the file system, or a sample in it: `path(VCPE_NSD)`,
    `path(ROUTER_VNF, "Definitions", "router-vnfd.yaml")`."""
    root = files(__name__)
    if not isinstance(root, Path):  # imported from a zip archive: not how Edgewise installs
        raise LabError(f"the sample descriptors are not on a file system ({root})")
    return root.joinpath(*parts)


def catalog() -> list[Path]:
    """The sample descriptors, in the order to onboard them."""
    return [path(name) for name in CATALOG]
