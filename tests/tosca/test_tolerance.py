"""Tolerated deviations from SOL001 (of the kind Tacker's own sample packages have) load with a
positioned warning and deploy exactly what the conforming descriptor deploys; strict loading
refuses them; what would deploy the wrong thing stays an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewise.tosca import Nsd, TypeCache, load_bytes, load_path
from edgewise.tosca.deviations import (
    DANGLING_SUBSTITUTION_MAPPING,
    MISSING_DESCRIPTION,
    TOLERATED,
)
from edgewise.tosca.siteservice import service_from_nsd

from .conftest import DATA, REPO, SAMPLES

VNFD = (DATA / "firewall-vnfd-v261.yaml").read_text()
NSD = (SAMPLES / "vcpe-nsd.yaml").read_text()
PLACEMENT = (
    "  groups:\n"
    "    engines_apart:\n"
    "      type: tosca.groups.nfv.PlacementGroup\n"
    "{properties}"
    "      members: [engine, untrusted_vl]\n\n"
)
DESCRIBED = "      properties: {description: engines and their link}\n"
MAPPINGS = "      virtual_link_trusted: [trusted_cp, external_virtual_link]\n"
DANGLING = "      virtual_link_mgmt: [mgmt_cp, external_virtual_link]\n"
VNFFG_DESCRIPTION = "      properties:\n        description: LAN to WAN through firewall and NAT\n"


def _with_group(properties: str) -> str:
    return VNFD.replace("  policies:\n", PLACEMENT.format(properties=properties) + "  policies:\n")


def _position(text: str, needle: str, column_offset: int = 0) -> tuple[int, int]:
    """1-based line and column of the first occurrence of `needle` in `text`."""
    before = text[: text.index(needle)]
    return before.count("\n") + 1, len(before) - before.rfind("\n") + column_offset


def test_placement_group_without_description_loads_with_a_positioned_warning(
    cache: TypeCache,
) -> None:
    conforming = load_bytes(_with_group(DESCRIBED).encode(), "vnfd.yaml", cache=cache)
    text = _with_group("")
    deviant = load_bytes(text.encode(), "vnfd.yaml", cache=cache)
    assert conforming.problems == ()
    [warning] = deviant.problems
    assert warning.severity == "warning"
    assert warning.code == MISSING_DESCRIPTION.code
    assert (warning.file, warning.line, warning.column) == (
        "vnfd.yaml",
        *_position(text, "      type: tosca.groups.nfv.PlacementGroup", 6),
    )
    assert warning.path == "topology_template.groups.engines_apart.properties.description"
    assert str(warning).startswith(f"vnfd.yaml:{warning.line}:7: {warning.path}: warning: ")
    assert deviant.ok
    assert deviant.descriptor == conforming.descriptor  # the same VNFD: nothing else changes


def test_dangling_substitution_mapping_loads_with_a_positioned_warning(cache: TypeCache) -> None:
    assert MAPPINGS in VNFD
    text = VNFD.replace(MAPPINGS, MAPPINGS + DANGLING)
    conforming = load_bytes(VNFD.encode(), "vnfd.yaml", cache=cache)
    deviant = load_bytes(text.encode(), "vnfd.yaml", cache=cache)
    [warning] = deviant.problems
    assert (warning.severity, warning.code) == ("warning", DANGLING_SUBSTITUTION_MAPPING.code)
    assert (warning.line, warning.column) == _position(text, "mgmt_cp")
    assert warning.path == (
        "topology_template.substitution_mappings.requirements.virtual_link_mgmt[0]"
    )
    assert "'mgmt_cp'" in warning.message
    assert deviant.ok
    assert deviant.descriptor == conforming.descriptor


def test_a_tolerated_nsd_deploys_the_same_service_on_a_site(cache: TypeCache) -> None:
    assert VNFFG_DESCRIPTION in NSD
    conforming = load_bytes(NSD.encode(), "nsd.yaml", cache=cache)
    deviant = load_bytes(NSD.replace(VNFFG_DESCRIPTION, "").encode(), "nsd.yaml", cache=cache)
    assert [(p.severity, p.code) for p in deviant.problems] == [
        ("warning", MISSING_DESCRIPTION.code)
    ]
    assert isinstance(conforming.descriptor, Nsd)
    assert isinstance(deviant.descriptor, Nsd)
    assert deviant.descriptor == conforming.descriptor
    assert service_from_nsd(
        deviant.descriptor, service_id="s", name="vcpe", tenant="t"
    ) == service_from_nsd(conforming.descriptor, service_id="s", name="vcpe", tenant="t")


@pytest.mark.parametrize(
    "text",
    [_with_group(""), VNFD.replace(MAPPINGS, MAPPINGS + DANGLING)],
    ids=["missing-description", "dangling-mapping"],
)
def test_strict_loading_refuses_every_tolerated_deviation(cache: TypeCache, text: str) -> None:
    tolerant = load_bytes(text.encode(), "vnfd.yaml", cache=cache)
    strict = load_bytes(text.encode(), "vnfd.yaml", cache=cache, strict=True)
    assert strict.descriptor is None
    assert not strict.ok
    assert [(p.line, p.column, p.code) for p in strict.errors] == [
        (p.line, p.column, p.code) for p in tolerant.problems
    ]
    assert "warning:" not in str(strict.errors[0])
    again = load_bytes(text.encode(), "vnfd.yaml", cache=cache)  # the cache keeps no verdict
    assert again.ok


def test_strict_loading_turns_other_warnings_into_errors_too(cache: TypeCache) -> None:
    text = VNFD.replace("description: Test VNFD", "description: one\ndescription: Test VNFD")
    assert load_bytes(text.encode(), "vnfd.yaml", cache=cache).ok
    [error] = load_bytes(text.encode(), "vnfd.yaml", cache=cache, strict=True).errors
    assert error.code == "yaml.duplicate-key"


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        # a required property that is not a description: it says what to deploy
        ("        name: engine\n", "", "property.required"),
        # a description of the wrong type is not a missing description
        ("description: Packet filter engine", "description: [no]", "property.type"),
        # a group member that does not exist would place nothing where it was meant to
        ("members: [engine,", "members: [ghost,", "target.unknown"),
        # a substitution to an unknown node type: what is this VNF?
        ("node_type: acme.vnf.Firewall", "node_type: acme.vnf.Ghost", "type.unknown"),
        # a requirement of a node template to a node that is not there
        ("virtual_binding: engine", "virtual_binding: ghost", "requirement.target"),
    ],
)
def test_what_would_deploy_the_wrong_thing_stays_an_error(
    cache: TypeCache, old: str, new: str, code: str
) -> None:
    text = _with_group(DESCRIBED)
    assert old in text
    result = load_bytes(text.replace(old, new, 1).encode(), "vnfd.yaml", cache=cache)
    assert result.descriptor is None
    assert code in {p.code for p in result.errors}


def test_readme_lists_every_tolerated_deviation() -> None:
    readme = (REPO / "README.md").read_text()
    for deviation in TOLERATED:
        assert f"`{deviation.code}`" in readme, deviation.code


def test_deviation_codes_are_unique() -> None:
    assert len({d.code for d in TOLERATED}) == len(TOLERATED)


def test_the_corpus_loads_strictly_too(corpus: Path, cache: TypeCache) -> None:
    """The shared corpus loads strictly too: tolerance hides nothing there."""
    for package in sorted(p for p in corpus.iterdir() if p.is_dir()):
        assert load_path(package, cache=cache, strict=True).ok, package.name
