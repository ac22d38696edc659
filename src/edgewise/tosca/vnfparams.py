"""A third-party VNF's parameters: the VNFD's `topology_template.inputs`, read at onboarding
(tosca/software.py), and the values an instantiation or an NS update gives them, checked
against the inputs' types and constraints and written as the strings `params` carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edgewise.model.problems import Problems
from edgewise.model.software import MAX_PARAMS, PARAM_KEY
from edgewise.tosca.problems import Mark, ProblemLog
from edgewise.tosca.shapes import Shapes, join
from edgewise.tosca.typedefs import Constraint
from edgewise.tosca.typeparse import parse_schema
from edgewise.tosca.values import satisfies
from edgewise.tosca.yamltree import Node, plain

TYPES = ("string", "integer", "float", "boolean")
_EXPECTED = {"string": "a string", "integer": "an integer", "float": "a number",
             "boolean": "true or false"}  # fmt: skip


@dataclass(frozen=True)
class Input:
    """One parameter: its TOSCA type, whether an instantiation must give it, its default as
    `params` writes it, and its constraints (operator, argument)."""

    name: str
    type: str
    required: bool
    default: str | None
    constraints: tuple[tuple[str, object], ...] = ()
    description: str = ""


def read_inputs(file: str, inputs: Mapping[str, Node], log: ProblemLog) -> tuple[Input, ...]:
    """The inputs of a VNFD's topology as parameters; a problem for each that cannot be one."""
    shapes = Shapes(file, log)
    found: list[Input] = []
    if len(inputs) > MAX_PARAMS:
        log.add(Mark(file), "topology_template.inputs", "software.params",
                f"{len(inputs)} inputs: a VNF has at most {MAX_PARAMS} parameters")  # fmt: skip
    for name, definition in inputs.items():
        path = f"topology_template.inputs.{name}"
        refused = Problems()
        PARAM_KEY.read(name, (), refused)
        if refused.found:
            log.add(definition.mark(file), path, "software.param-name",
                    f"{name!r} cannot name a parameter: {refused.found[0].message}")  # fmt: skip
            continue
        schema = parse_schema(definition, path, shapes)
        if schema.type not in TYPES:
            log.add(
                definition.mark(file),
                join(path, "type"),
                "software.param-type",
                f"type {schema.type!r}: a VNF's parameter is one of " + ", ".join(TYPES),
            )
            continue  # fmt: skip
        default = schema.default
        body = definition.value if isinstance(definition.value, dict) else {}
        description = body.get("description")
        found.append(Input(
            name, schema.type,
            required=schema.is_required and default is None,
            default=None if default is None else as_text(plain(default)),
            constraints=tuple(_constraint(c) for c in schema.constraints),
            description=str(description.value) if description is not None else "",
        ))  # fmt: skip
    return tuple(found)


def _constraint(constraint: Constraint) -> tuple[str, object]:
    argument = constraint.argument
    return constraint.operator, plain(argument) if isinstance(argument, Node) else argument


def as_text(value: object) -> str:
    """A value as `params` writes it: booleans as true/false, numbers as JSON writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_params(
    inputs: tuple[Input, ...],
    given: Mapping[str, object],
    current: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The params of a VNF: `given` (a null removes a value: the default applies again) over
    `current` (the values it runs with; None for a new instantiation) over the defaults.
    Returns the params and the problems as (input name, why); a problem means no params."""
    declared = {i.name: i for i in inputs}
    problems: list[tuple[str, str]] = []
    values = dict(current or {})
    for key, value in given.items():
        spec = declared.get(key)
        if spec is None:
            known = ", ".join(declared) or "none"
            problems.append((key, f"not a parameter of this VNF; its VNFD declares: {known}"))
            continue
        if value is None:
            values.pop(key, None)
            continue
        why = _wrong(spec, value)
        if why is not None:
            problems.append((key, why))
            continue
        values[key] = as_text(value)
    params: dict[str, str] = {}
    for spec in inputs:
        if spec.name in values:
            params[spec.name] = values[spec.name]
        elif spec.default is not None:
            params[spec.name] = spec.default
        elif spec.required and spec.name not in {key for key, _ in problems}:
            problems.append(
                (
                    spec.name,
                    f"missing: the VNFD requires it ({spec.type}"
                    + (f": {spec.description})" if spec.description else ")"),
                )
            )
        else:
            params[spec.name] = ""  # an optional one left unset: templates render it empty
    return params, problems


def _wrong(spec: Input, value: object) -> str | None:
    """Why `value` cannot be the input's, or None."""
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
    }[spec.type]
    if not ok:
        return f"{value!r} is not {_EXPECTED[spec.type]} (the input's type is {spec.type})"
    for operator, argument in spec.constraints:
        if satisfies(operator, argument, value, spec.type) is False:
            return f"{value!r} does not satisfy {operator} {argument!r}"
    if isinstance(value, str) and len(value) > 4096:
        return "longer than 4096 characters"
    return None
