"""Every real package of the shared SOL001 corpus loads with no error, with known counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewise.tosca import Nsd, TypeCache, Vnfd, load_path

EXPECTED = {
    # for each package the kind, then node, policy, chain and flavour counts
    "orange-topology-nsd": ("nsd", 5, 0, 0, 0),
    "orange-topology-vnfd": ("vnfd", 14, 0, 0, 1),
    "tacker-ansible-vnf": ("vnfd", 7, 5, 0, 1),
    "tacker-v1-functional": ("vnfd", 18, 12, 0, 1),
    "tacker-v1-test-cnf-scale": ("vnfd", 5, 10, 0, 2),
}


@pytest.mark.parametrize("package", sorted(EXPECTED))
def test_corpus_package_loads(corpus: Path, cache: TypeCache, package: str) -> None:
    result = load_path(corpus / package, cache=cache)
    assert result.errors == (), "\n".join(map(str, result.errors))
    kind, nodes, policies, chains, flavours = EXPECTED[package]
    descriptor = result.descriptor
    assert descriptor is not None
    assert (descriptor.kind, descriptor.node_count, descriptor.policy_count) == (
        kind,
        nodes,
        policies,
    )
    assert descriptor.chain_count == chains
    if isinstance(descriptor, Vnfd):
        assert len(descriptor.flavours) == flavours


def test_tacker_flavours_and_policies(corpus: Path, cache: TypeCache) -> None:
    result = load_path(corpus / "tacker-v1-test-cnf-scale", cache=cache)
    vnfd = result.descriptor
    assert isinstance(vnfd, Vnfd)
    assert vnfd.descriptor_id == "b1bb0ce7-ebca-4fa7-95ed-4840d70a1177"
    assert vnfd.vnfm_info == ("Tacker",)
    assert [f.flavour_id for f in vnfd.flavours] == ["simple", "scalingsteps"]
    steps = vnfd.flavours[1]
    assert steps.scaling_aspects[0].aspect_id == "vdu1_aspect"
    assert steps.initial_deltas == (("VDU1", 1),)
    assert steps.scaling_deltas[0].instances == 2
    assert steps.instantiation_levels[1].vdu_instances == (("VDU1", 5),)
    assert steps.default_instantiation_level == "instantiation_level_1"


def test_orange_nsd_fields(corpus: Path, cache: TypeCache) -> None:
    nsd = load_path(corpus / "orange-topology-nsd", cache=cache).descriptor
    assert isinstance(nsd, Nsd)
    assert (nsd.descriptor_id, nsd.designer, nsd.flavour_id) == ("NS_ID1", "MyCompany", "simple")
    assert nsd.vnfd_ids == ("ID_VNF",)
    assert nsd.sap == ("SAP",)
    assert nsd.virtual_links == ("InternalVirtualLink",)


def test_type_files_are_parsed_once(corpus: Path, cache: TypeCache) -> None:
    load_path(corpus / "tacker-v1-functional", cache=cache)
    misses = cache.misses
    result = load_path(corpus / "tacker-ansible-vnf", cache=cache)
    assert result.ok
    assert cache.hits >= 2
    assert cache.misses - misses == 3  # only the package's own three templates are new
