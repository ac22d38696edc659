"""Problems in native function configs carry file, line, column and document path; str() of them."""

from __future__ import annotations

import pytest

from edgewise.tosca import LoadResult, Problem, TypeCache, load_bytes

NODE = "topology_template.node_templates"

FIREWALL = """\
tosca_definitions_version: tosca_simple_yaml_1_3
topology_template:
  inputs:
    office: {type: string, default: 10.0.0.300/24}
    ssh: {type: integer, default: 70000}
    tunnel: {type: string, default: gre}
  node_templates:
    fw:
      type: edgewise.nodes.Firewall
      properties:
        rules:
          - {action: accept, protocol: tcp, port: 80}
          - action: accept
            source: 192.0.2.0/33
          - {action: accept, port: {get_input: ssh}}
          - {action: accept, protocol: {get_input: tunnel}, source: {get_input: office}}
"""

LIMITER = """\
tosca_definitions_version: tosca_simple_yaml_1_3
topology_template:
  inputs:
    uplink: {type: string, default: 5 Mfoo}
  node_templates:
    shaper:
      type: edgewise.nodes.RateLimiter
      properties:
        ingress_rate: {get_input: uplink}
        egress_rate: 10 Mbps
"""

CHECKED = """\
tosca_definitions_version: tosca_simple_yaml_1_3
topology_template:
  node_templates:
    fw:
      type: edgewise.nodes.Firewall
      properties:
        rules:
          - {action: accept, protocol: tcp, port: 70000}
          - {action: accept, protocol: gre}
    shaper:
      type: edgewise.nodes.RateLimiter
      properties: {egress_rate: 10 Mfoo}
"""


def load(text: str, cache: TypeCache) -> LoadResult:
    return load_bytes(text.encode(), "nsd.yaml", cache=cache)


def where(result: LoadResult) -> set[tuple[str, int, int, str, str]]:
    return {(p.file, p.line, p.column, p.path, p.code) for p in result.problems}


def test_native_firewall_problems_point_at_the_node(cache: TypeCache) -> None:
    result = load(FIREWALL, cache)
    assert result.descriptor is None
    rules = f"{NODE}.fw.properties.rules"
    assert where(result) == {
        ("nsd.yaml", 14, 21, f"{rules}[1].source", "property.value"),  # bad prefix
        ("nsd.yaml", 15, 36, f"{rules}[2].port", "property.value"),  # port from an input
        ("nsd.yaml", 16, 40, f"{rules}[3].protocol", "property.value"),  # unknown protocol
        ("nsd.yaml", 16, 69, f"{rules}[3].source", "property.value"),  # prefix from an input
    }


def test_native_rate_problem_points_at_the_get_input_call(cache: TypeCache) -> None:
    result = load(LIMITER, cache)
    [problem] = result.problems
    assert (problem.line, problem.column, problem.path) == (
        9,
        23,
        f"{NODE}.shaper.properties.ingress_rate",
    )
    assert "is not a bitrate with a unit, e.g. '10 Mbps'" in problem.message


def test_type_checked_values_point_at_the_node(cache: TypeCache) -> None:
    result = load(CHECKED, cache)
    rules = f"{NODE}.fw.properties.rules"
    assert where(result) == {
        ("nsd.yaml", 8, 51, f"{rules}[0].port", "property.constraint"),  # port out of range
        ("nsd.yaml", 9, 40, f"{rules}[1].protocol", "property.constraint"),  # unknown protocol
        ("nsd.yaml", 12, 33, f"{NODE}.shaper.properties.egress_rate", "property.type"),  # unit
    }


def test_default_values_point_at_the_node_template(cache: TypeCache) -> None:
    text = (
        "tosca_definitions_version: tosca_simple_yaml_1_3\n"
        "topology_template:\n"
        "  node_templates:\n"
        "    nat:\n"
        "      type: edgewise.nodes.Nat\n"
        "      properties: {mode: snat}\n"
    )
    [problem] = load(text, cache).problems
    assert (problem.line, problem.column, problem.code) == (5, 7, "property.required")
    assert problem.path == f"{NODE}.nat.properties.source_address"


@pytest.mark.parametrize(
    ("problem", "shown"),
    [
        (
            Problem("bad.yaml", 3, 1, "", "YAML syntax error: x", "yaml.syntax"),
            "bad.yaml:3:1: YAML syntax error: x",
        ),
        (
            Problem("nsd.yaml", 0, 0, "imports[0]", "not found", "import.unresolvable"),
            "nsd.yaml: imports[0]: not found",
        ),
        (Problem("x.csar", 0, 0, "", "too big", "limit.size"), "x.csar: too big"),
        (
            Problem("a.yaml", 2, 5, "description", "twice", "yaml.duplicate-key", "warning"),
            "a.yaml:2:5: description: warning: twice",
        ),
    ],
)
def test_problem_str(problem: Problem, shown: str) -> None:
    assert str(problem) == shown


def test_syntax_error_str_has_no_empty_path(cache: TypeCache) -> None:
    [problem] = load("a: [1, 2\n", cache).problems
    assert str(problem).startswith("nsd.yaml:2:1: YAML syntax error")
