"""Built-in types: compiles the compact notation of builtin/*.yaml into TypeDefs.

The TOSCA normative types, the ETSI SOL001 types and Edgewise's native function types.
A package's own type files take precedence; these fill in whatever it does not carry.
A TypeCache reads them once (read_builtins) and compiles each type when first looked up; there
is no copy at module level: whoever keeps a TypeCache keeps its built-ins.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import resources

import yaml

from edgewise.tosca.problems import Mark
from edgewise.tosca.typedefs import KIND_PREFIX, Constraint, RequirementDef, Schema, TypeDef
from edgewise.tosca.yamlscan import compose_node, scalar_value
from edgewise.tosca.yamltree import Node, NodeValue

BUILTIN_FILES = ("normative.yaml", "etsi_nfv.yaml", "edgewise.yaml")
_OPERATORS = (
    (">=", "greater_or_equal"),
    ("<=", "less_or_equal"),
    (">", "greater_than"),
    ("<", "less_than"),
)
_ROOTS = {
    "data": "tosca.datatypes.Root",
    "node": "tosca.nodes.Root",
    "capability": "tosca.capabilities.Root",
    "relationship": "tosca.relationships.Root",
    "policy": "tosca.policies.Root",
    "interface": "tosca.interfaces.Root",
    "artifact": "tosca.artifacts.Root",
    "group": "tosca.groups.Root",
}

BuiltinTypes = Mapping[tuple[str, str], TypeDef]


Spec = tuple[dict[str, object], Mark]


class _OnDemand(Mapping[tuple[str, str], TypeDef]):
    """The built-in types, each compiled from its compact spec when first looked up: a load
    touches a few dozen of the two hundred and more, so a new process skips the rest."""

    def __init__(
        self, specs: dict[tuple[str, str], Spec], ready: dict[tuple[str, str], TypeDef]
    ) -> None:
        self._specs = specs
        self._ready = ready

    def __getitem__(self, key: tuple[str, str]) -> TypeDef:
        found = self._ready.get(key)
        if found is None:
            spec, mark = self._specs[key]
            found = self._ready[key] = _type(key[0], key[1], spec, mark)
        return found

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


def read_builtins() -> BuiltinTypes:
    """The built-in types, read now and each compiled when first looked up."""
    specs: dict[tuple[str, str], Spec] = {}
    ready: dict[tuple[str, str], TypeDef] = {}
    for name in BUILTIN_FILES:
        text = resources.files("edgewise.tosca.builtin").joinpath(name).read_text("utf-8")
        document = _python(compose_node(text))
        assert isinstance(document, dict)
        _index(document, f"<builtin>/{name}", specs, ready)
    return _OnDemand(specs, ready)


def _python(node: yaml.Node | None) -> object:
    """Plain Python values of our own trusted files (no aliases), as yaml.safe_load gives."""
    if isinstance(node, yaml.MappingNode):
        return {scalar_value(k): _python(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_python(item) for item in node.value]
    return None if node is None else scalar_value(node)


def _index(
    document: dict[str, object],
    file: str,
    specs: dict[tuple[str, str], Spec],
    ready: dict[tuple[str, str], TypeDef],
) -> None:
    mark = Mark(file)
    primitives = document.get("primitives", [])
    assert isinstance(primitives, list)
    for name in primitives:
        ready["data", str(name)] = TypeDef("data", str(name), None, mark, primitive=True)
        specs["data", str(name)] = ({}, mark)
    for section, body in document.items():
        kind = section.split("_")[0]
        if kind not in _ROOTS or not isinstance(body, dict):
            continue
        for raw_name, spec in body.items():
            specs[kind, _expand(kind, str(raw_name))] = (_dict(spec), mark)


def _expand(kind: str, name: str) -> str:
    if name.startswith("nfv:"):
        return KIND_PREFIX[kind] + "nfv." + name[4:]
    return name


def _type(kind: str, name: str, spec: dict[str, object], mark: Mark) -> TypeDef:
    parent_name = spec.get("^")
    parent: str | None = _expand(kind, str(parent_name)) if parent_name else _ROOTS[kind]
    if name == _ROOTS[kind]:
        parent = None
    if kind == "data":
        props = {k: v for k, v in spec.items() if k != "^"}
        return TypeDef(kind, name, parent, mark, properties=_schemas(props, mark))
    requirements = []
    for req_name, req_spec in _dict(spec.get("r")).items():
        words = str(req_spec).split()
        requirements.append(
            RequirementDef(
                req_name,
                _expand("capability", words[0]),
                _expand("node", words[2]) if len(words) > 2 else None,
                _expand("relationship", words[1]) if len(words) > 1 else None,
                mark,
            )
        )
    target_kind = "capability" if kind == "relationship" else "node"
    targets = [str(t) for t in _list(spec.get("t"))]
    return TypeDef(
        kind,
        name,
        parent,
        mark,
        properties=_schemas(_dict(spec.get("p")), mark),
        attributes=_schemas(_dict(spec.get("a")), mark),
        requirements=tuple(requirements),
        capabilities={k: _expand("capability", str(v)) for k, v in _dict(spec.get("c")).items()},
        interfaces={k: _expand("interface", str(v)) for k, v in _dict(spec.get("i")).items()},
        targets=tuple(
            _expand("group", t) if t.endswith("Group") else _expand(target_kind, t) for t in targets
        ),
    )


def _dict(value: object) -> dict[str, object]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _schemas(specs: dict[str, object], mark: Mark) -> dict[str, Schema]:
    return {name: _schema(str(spec), mark) for name, spec in specs.items()}


def _schema(spec: str, mark: Mark) -> Schema:
    words = spec.split()
    type_word = words[0]
    required = not type_word.endswith("?")
    type_word = type_word.rstrip("?")
    entry: Schema | None = None
    if type_word.startswith(("list:", "map:")):
        type_word, entry_type = type_word.split(":", 1)
        entry = Schema(_expand("data", entry_type), mark)
    else:
        type_word = _expand("data", type_word)
    default: Node | None = None
    constraints: list[Constraint] = []
    for word in words[1:]:
        if word.startswith("="):
            default = Node(_literal(type_word, word[1:]), 0, 0)
        elif word.startswith("in:"):
            values = [_literal(type_word, v, spaces=False) for v in word[3:].split("|")]
            constraints.append(Constraint("valid_values", values, mark))
        elif word.startswith("range:"):
            low, high = word[6:].split("|")
            constraints.append(Constraint("in_range", [_number(low), _number(high)], mark))
        elif word.startswith("minlen:"):
            constraints.append(Constraint("min_length", int(word[7:]), mark))
        else:
            for symbol, operator in _OPERATORS:
                if word.startswith(symbol):
                    argument = word[len(symbol) :].replace("_", " ")
                    constraints.append(Constraint(operator, _number(argument), mark))
                    break
    return Schema(type_word, mark, required, default, tuple(constraints), entry)


def _number(text: str) -> int | float | str:
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            continue
    return text


def _literal(type_name: str, text: str, *, spaces: bool = True) -> NodeValue:
    if type_name == "integer":
        return int(text)
    if type_name == "float":
        return float(text)
    if type_name == "boolean":
        return text == "true"
    if type_name == "list":
        return [Node(item, 0, 0) for item in text.strip("[]").split(",") if item]
    return text.replace("_", " ") if spaces else text
