"""The designer's pure parts, by tables: a design's problems before the loader, the field a
loader path is about, the next version's number, the links of a chain."""

from __future__ import annotations

import pytest

from edgewise.central.services.designs_nsd import (
    Design,
    DesignedFunction,
    PackageFunction,
    check_design,
    field_of,
    link_names,
)
from edgewise.central.services.designs_reading import next_version

FIREWALL = DesignedFunction("firewall", "native", "edgewise.nodes.Firewall")
NOT_A_NAME = "'9fw' is not a node name: a letter, then letters, digits or _ (at most 40)"
DNS = PackageFunction("pkg-1", "dns-vnfd", "1.0", "Example", "DNS", "2.9", (("default", "one"),))


def design(*functions: DesignedFunction, version: str = "1.0") -> Design:
    return Design("n", version, "d", "inv", "desc-1", functions)


@pytest.mark.parametrize(
    ("functions", "expected"),
    [
        ((FIREWALL,), []),
        ((), [("functions", "add at least one function to the chain")]),
        ((FIREWALL, FIREWALL), [("functions[1].name", "'firewall' is used twice")]),
        (
            (DesignedFunction("9fw", "native", "edgewise.nodes.Firewall"),),
            [("functions[0].name", NOT_A_NAME)],
        ),
        (
            (DesignedFunction("lan_link", "native", "edgewise.nodes.Firewall"),),
            [("functions[0].name", "'lan_link' names a node the NSD needs")],
        ),
        ((DesignedFunction("dns", "package", "dns-vnfd"),), []),
        (
            (DesignedFunction("dns", "package", "dns-vnfd", flavour_id="big"),),
            [("functions[0].flavour_id", "VNFD dns-vnfd has no flavour 'big' (default)")],
        ),
        (
            (DesignedFunction("dns", "package", "other"),),
            [("functions[0].type", "no onboarded, enabled VNF package has VNFD 'other'")],
        ),
    ],
)
def test_a_design_s_own_problems(
    functions: tuple[DesignedFunction, ...], expected: list[tuple[str, str]]
) -> None:
    found = check_design(design(*functions), {"dns-vnfd": DNS})
    assert [(p.where, p.message) for p in found] == expected


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("topology_template.node_templates.firewall.properties.rules[2].port",
         "functions[0].properties.rules[2].port"),
        ("topology_template.node_templates.nat.requirements[0]", "functions[1]"),
        ("topology_template.node_templates.service.properties.version", "version"),
        ("topology_template.node_templates.lan_link.properties", ""),
        ("imports[0]", ""),
    ],
)  # fmt: skip
def test_a_loader_path_names_the_design_s_field(path: str, field: str) -> None:
    nat = DesignedFunction("nat", "native", "edgewise.nodes.Nat")
    assert field_of(path, design(FIREWALL, nat)) == field


@pytest.mark.parametrize(
    ("version", "following"),
    [("1.0", "1.1"), ("2", "3"), ("v1.9", "v1.10"), ("beta", "beta.1"), ("", "1.0")],
)
def test_the_next_version(version: str, following: str) -> None:
    assert next_version(version) == following


def test_a_chain_of_n_functions_has_n_plus_one_links_lan_side_first() -> None:
    assert link_names(1) == ("lan_link", "wan_link")
    assert link_names(3) == ("lan_link", "link_1", "link_2", "wan_link")
