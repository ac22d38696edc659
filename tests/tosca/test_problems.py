"""Bad descriptors: each problem is reported with file, position, path and a stable code."""

from __future__ import annotations

import textwrap

import pytest

from edgewise.tosca import Limits, LoadResult, TypeCache, load_bytes

HEAD = "tosca_definitions_version: tosca_simple_yaml_1_3\n"


def load(text: str, cache: TypeCache, limits: Limits | None = None) -> LoadResult:
    data = textwrap.dedent(text).encode()
    return load_bytes(data, "nsd.yaml", limits or Limits(), cache=cache)


def codes(result: LoadResult) -> set[str]:
    return {p.code for p in result.problems}


FIREWALL = HEAD + textwrap.dedent(
    """
    topology_template:
      node_templates:
        fw:
          type: edgewise.nodes.Firewall
          properties:
            rules:
              - {action: accept, protocol: tcp, port: 80}
              - {action: accept, protocol: tcp, port: 443}
              - {action: accept, protocol: tcp, port: "http"}
              - {action: maybe, protocol: gre}
    """
)


def test_every_problem_is_reported_with_its_path(cache: TypeCache) -> None:
    result = load(FIREWALL, cache)
    assert not result.ok
    assert result.descriptor is None
    by_path = {p.path: p for p in result.problems}
    port = by_path["topology_template.node_templates.fw.properties.rules[2].port"]
    assert (port.file, port.line, port.code) == ("nsd.yaml", 11, "property.type")
    assert "integer" in port.message
    assert "topology_template.node_templates.fw.properties.rules[3].action" in by_path
    assert "topology_template.node_templates.fw.properties.rules[3].protocol" in by_path
    assert str(port).startswith("nsd.yaml:11:")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("a: [1, 2\n", "yaml.syntax"),
        ("tosca_definitions_version: 5\n", "template.version"),
        ("description: no version\n", "template.version"),
        (
            HEAD + "topology_template:\n  node_templates:\n    x: {type: acme.Missing}\n",
            "type.unknown",
        ),
        (
            HEAD + "topology_template:\n  node_templates:\n    x: {type: tosca.nodes.nfv.NS}\n",
            "property.required",
        ),
        (
            HEAD + "topology_template:\n  node_templates:\n"
            "    x:\n      type: edgewise.nodes.Nat\n      properties: {mode: {get_input: nope}}\n",
            "input.unknown",
        ),
        (
            HEAD + "topology_template:\n  node_templates:\n"
            "    x:\n      type: edgewise.nodes.Nat\n      requirements: [{inside: ghost}]\n",
            "requirement.target",
        ),
        (
            HEAD + "topology_template:\n  node_templates:\n"
            "    x:\n      type: edgewise.nodes.Nat\n      requirements: [{sideways: x}]\n",
            "requirement.unknown",
        ),
        (
            HEAD + "topology_template:\n  node_templates: {x: {type: edgewise.nodes.Nat}}\n"
            "  policies: [{p: {type: tosca.policies.nfv.VduInitialDelta, targets: [y],"
            " properties: {initial_delta: {number_of_instances: 1}}}}]\n",
            "target.unknown",
        ),
        (
            HEAD + "node_types:\n  a: {derived_from: b}\n  b: {derived_from: a}\n",
            "type.cycle",
        ),
        (HEAD + "node_types:\n  a: {derived_from: nowhere}\n", "type.unknown"),
        (
            HEAD + "data_types:\n  d:\n    properties: {size: {type: scalar-unit.size,"
            " default: 1 GB}}\ntopology_template:\n  node_templates:\n"
            "    x:\n      type: edgewise.nodes.RateLimiter\n"
            "      properties: {egress_rate: 10 Mfoo}\n",
            "property.type",
        ),
        (HEAD + "imports: [helper.yaml]\n", "import.unresolvable"),
        (HEAD + "imports: [https://example.com/x.yaml]\n", "import.remote"),
        (HEAD + "topology_template: [1, 2]\n", "schema.type"),
        (HEAD + "topology_template:\n  node_templates:\n    x: [1]\n", "schema.type"),
        (b"\xff\xfe\x00bad".decode("latin-1"), "yaml.syntax"),
    ],
)
def test_bad_input_gives_problem(cache: TypeCache, text: str, code: str) -> None:
    result = load(text, cache)
    assert code in codes(result), [str(p) for p in result.problems]
    assert not result.ok
    assert all(p.file and p.message for p in result.problems)


def test_non_utf8_bytes(cache: TypeCache) -> None:
    result = load_bytes(HEAD.encode() + b"description: caf\xe9\n", "x.yaml", cache=cache)
    [problem] = result.problems
    assert (problem.code, problem.line, problem.column) == ("yaml.encoding", 2, 17)


def test_duplicate_key_is_a_warning_with_both_positions(cache: TypeCache) -> None:
    text = HEAD + "description: one\ndescription: two\n"
    result = load(text, cache)
    [dup] = [p for p in result.problems if p.code == "yaml.duplicate-key"]
    assert dup.severity == "warning"
    assert "line 2" in dup.message
    assert "line 3" in dup.message


def test_deep_nesting_and_alias_bombs_are_limited(cache: TypeCache) -> None:
    deep = load_bytes(b"a: " + b"[" * 100_000 + b"]" * 100_000, cache=cache)
    assert "limit.depth" in codes(deep)
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)
    )
    assert "limit.nodes" in codes(load(laughs, cache))
    assert "yaml.recursive-alias" in codes(load("a: &x [*x]\n", cache))


def test_file_size_limit(cache: TypeCache) -> None:
    big = HEAD.encode() + b"#" * 2000
    result = load_bytes(big, limits=Limits(max_file_bytes=1000), cache=cache)
    assert codes(result) == {"limit.size"}
