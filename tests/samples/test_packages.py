"""The sample packages as files: each loads as a SOL001/SOL004 package, its manifest and
artifact checksums are current, it follows the conventions of docs/vnf-packages.md (VduCp order
0 LAN / 1 WAN, Debian-package images, boot_data), reads into the SoftwareConfig contract, and
samples/README.md documents every input."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from edgewise.model.software import SoftwareConfig
from edgewise.tosca.loader import load_path
from edgewise.tosca.software import Reading, read_package
from tests.samples.csar import (
    artifacts,
    files,
    manifest_entries,
    manifest_path,
    manifest_text,
    packages,
    refresh,
    sha256,
    vnfd_path,
)
from tests.samples.test_onboarding import zipped

NAMES = ("dnsmasq", "frr", "haproxy", "squid", "strongswan")
# values for the inputs without a default (the lab tests use the same kinds of values)
REQUIRED = {
    "dnsmasq": {"dhcp_first": "172.16.3.100", "dhcp_last": "172.16.3.150"},
    "frr": {"neighbour_address": "192.0.2.2", "neighbour_as": "65002"},
    "haproxy": {"servers": "172.16.3.20:8080 172.16.3.21:8080"},
    "squid": {},
    "strongswan": {
        "peer_address": "192.0.2.2",
        "psk": "correct horse battery staple",
        "remote_subnets": "10.99.0.0/24",
    },
}
PACKAGES = {p.name: p for p in packages()}


def vnfd(package: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(vnfd_path(package).read_text())
    return loaded


def test_the_samples_are_the_five_packages() -> None:
    assert tuple(PACKAGES) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_a_sample_loads_as_a_sol004_package_without_a_problem(name: str) -> None:
    result = load_path(PACKAGES[name], strict=True)
    assert [str(p) for p in result.problems] == []
    assert result.descriptor is not None


@pytest.mark.parametrize("name", NAMES)
def test_the_manifest_lists_every_file_with_its_current_hash(name: str) -> None:
    package = PACKAGES[name]
    entries = manifest_entries(package)
    assert sorted(entries) == files(package)
    stale = [
        f
        for f, (algorithm, digest) in entries.items()
        if algorithm != "SHA-256" or digest != sha256(package / f)
    ]
    assert stale == [], f"run: python -m tests.samples.csar samples/{name}"
    assert manifest_path(package).read_text() == manifest_text(package)


@pytest.mark.parametrize("name", NAMES)
def test_each_artifact_carries_its_files_checksum(name: str) -> None:
    package = PACKAGES[name]
    for artifact in artifacts(package).values():
        assert artifact["checksum_algorithm"] == "SHA-256"
        assert artifact["checksum"] == sha256(package / artifact["file"]), (
            f"{artifact['file']}: run python -m tests.samples.csar samples/{name}"
        )


@pytest.mark.parametrize("name", NAMES)
def test_a_sample_follows_the_conventions(name: str) -> None:
    nodes = vnfd(PACKAGES[name])["topology_template"]["node_templates"]
    orders = sorted(
        n["properties"]["order"] for n in nodes.values() if n["type"] == "tosca.nodes.nfv.VduCp"
    )
    assert orders == [0, 1]
    vdus = [n for n in nodes.values() if n["type"] == "tosca.nodes.nfv.Vdu.Compute"]
    assert vdus
    for vdu in vdus:
        image = vdu["properties"]["sw_image_data"]
        assert (image["container_format"], image["disk_format"]) == ("bare", "raw")
        assert "debian-package" in image["supported_virtualisation_environments"]
        assert vdu["properties"]["boot_data"]
        assert vdu["metadata"]["edgewise.ready"].partition(":")[0] in ("tcp", "udp", "command")


@pytest.mark.parametrize("name", NAMES)
def test_a_sample_reads_into_the_software_contract(name: str) -> None:
    """Zipped as vnfpkgm/v1 takes it and read by tosca.software as the central reads it."""
    found = read_package(zipped(PACKAGES[name]))
    assert [str(p) for p in found.problems] == []
    assert found.template is not None
    params, wrong = found.template.params(typed(found, REQUIRED[name]))
    assert wrong == []
    config = found.template.config(params)
    assert isinstance(config, SoftwareConfig)
    assert config.vnfd_id == f"edgewise-sample-{name}"
    assert all(p.ready is not None for p in config.programs)


def typed(found: Reading, values: dict[str, str]) -> dict[str, object]:
    """`values` as additionalParams carry them (JSON numbers for integer inputs)."""
    assert found.template is not None
    kinds = {i.name: i.type for i in found.template.inputs}
    return {k: int(v) if kinds[k] == "integer" else v for k, v in values.items()}


def test_a_template_naming_an_undeclared_input_is_refused(tmp_path: Path) -> None:
    """The contract check the test above relies on does bite (a broken copy of a sample)."""
    broken = tmp_path / "squid"
    subprocess.run(["cp", "-r", str(PACKAGES["squid"]), str(broken)], check=True)
    conf = broken / "Files" / "squid.conf"
    conf.write_text(conf.read_text() + "cache_swap_low ${param_swap_low}\n")
    refresh(broken)  # the checksums made current: only the template is wrong
    found = read_package(zipped(broken))
    assert found.template is None
    assert any("param_swap_low" in str(p) for p in found.problems), found.problems


@pytest.mark.parametrize("name", NAMES)
def test_a_samples_scripts_are_valid_sh(name: str) -> None:
    for script in sorted((PACKAGES[name] / "Scripts").glob("*.sh")):
        done = subprocess.run(
            ["sh", "-n", str(script)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{script}: {done.stderr}"


@pytest.mark.parametrize("name", NAMES)
def test_the_samples_readme_documents_every_input(name: str) -> None:
    readme = (PACKAGES[name].parent / "README.md").read_text()
    section = readme.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
    inputs = vnfd(PACKAGES[name])["topology_template"].get("inputs", {})
    missing = [key for key in inputs if f"`{key}`" not in section]
    assert missing == []


def test_the_mixed_chain_nsd_loads_and_names_the_packages_by_their_vnfd_ids() -> None:
    nsd = PACKAGES["frr"].parent / "nsd" / "edge-chain-nsd.yaml"
    result = load_path(nsd, strict=True)
    assert [str(p) for p in result.problems] == []
    nodes = yaml.safe_load(nsd.read_text())["topology_template"]["node_templates"]
    referenced = {
        name: node["properties"]["descriptor_id"]
        for name, node in nodes.items()
        if node["type"] == "tosca.nodes.nfv.VNF"
    }
    assert referenced == {"frr": "edgewise-sample-frr", "squid": "edgewise-sample-squid"}
    assert nodes["firewall"]["type"] == "edgewise.nodes.Firewall"
