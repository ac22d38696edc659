"""The sample catalog, shipped as package data: the vCPE NSD (firewall, then NAT) and the router
VNF package (a CSAR directory). The demo onboards it; the tests, the benchmarks and the
conformance run read it from wherever Edgewise is installed, through `path()`. Beside it, the
NSDs of chains with third-party VNFs (`MIXED_NSD`: firewall, FRR, dnsmasq; `FIREWALL_FRR_NSD`),
which reference the SOL004 packages of the source tree's `samples/` (`third_party()`).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from edgewise.lab.errors import LabError

VCPE_NSD = "vcpe-nsd.yaml"
ROUTER_VNF = "edgewise-router-vnf"
CATALOG = (ROUTER_VNF, VCPE_NSD)  # in the order the demo onboards them
MIXED_NSD = "mixed-nsd.yaml"  # native firewall -> samples/frr -> samples/dnsmasq
FIREWALL_FRR_NSD = "firewall-frr-nsd.yaml"  # native firewall -> samples/frr
SOURCE_SAMPLES = Path(__file__).resolve().parents[4] / "samples"  # src/edgewise/lab/samples


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


def third_party(name: str) -> Path:
    """A SOL004 package of the source tree's `samples/` (`frr`, `dnsmasq`, ...): a CSAR
    directory. They are not package data: the demo's third-party step needs a checkout."""
    package = SOURCE_SAMPLES / name
    if not (package / "TOSCA-Metadata" / "TOSCA.meta").is_file():
        raise LabError(
            f"the sample VNF package {name!r} is not at {package}: the third-party VNF packages "
            "are in the source tree's samples/ (run from a checkout of Edgewise)"
        )
    return package
