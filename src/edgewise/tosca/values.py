"""Property values against their definitions: types, entry schemas, data types, constraints.

Used for node, capability, artifact, policy and group properties and for input defaults.
Intrinsic functions (get_input, ...) are checked for their own shape, not against the type.
"""

from __future__ import annotations

import re

from edgewise.model.units import UNITS, parse_range, parse_scalar, unit_names
from edgewise.tosca.deviations import MISSING_DESCRIPTION, TOLERATED_NOTE
from edgewise.tosca.problems import ProblemLog
from edgewise.tosca.registry import TypeRegistry
from edgewise.tosca.shapes import describe, join
from edgewise.tosca.typedefs import Constraint, Schema
from edgewise.tosca.yamltree import Node, plain

FUNCTIONS = {
    "get_input",
    "get_property",
    "get_attribute",
    "get_operation_output",
    "get_nodes_of_type",
    "get_artifact",
    "concat",
    "join",
    "token",
}
_EXPECTED = {
    "string": "a string",
    "integer": "an integer",
    "float": "a number",
    "boolean": "true or false",
    "list": "a list",
    "map": "a mapping",
    "range": "a range [low, high]",
    "version": "a version such as 1.0",
    "timestamp": "a timestamp",
}


def function_call(node: Node) -> tuple[str, Node] | None:
    """(name, argument) when the node is an intrinsic function call such as {get_input: x}."""
    value = node.value
    if isinstance(value, dict) and len(value) == 1:
        name, argument = next(iter(value.items()))
        if name in FUNCTIONS:
            return name, argument
    return None


class ValueChecker:
    """Checks values in one file, with the inputs of the topology they belong to."""

    def __init__(
        self,
        registry: TypeRegistry,
        file: str,
        log: ProblemLog,
        inputs: frozenset[str] | None = None,
    ) -> None:
        self.registry = registry
        self.file = file
        self.log = log
        self.inputs = inputs

    def properties(
        self,
        given: dict[str, Node],
        definitions: dict[str, Schema],
        path: str,
        owner: Node,
        what: str = "property",
    ) -> None:
        """Check a properties block: unknown names, missing required ones, every value."""
        for name, node in given.items():
            schema = definitions.get(name)
            if schema is None:
                known = ", ".join(sorted(definitions)) or "none"
                self.log.add(
                    node.mark(self.file),
                    join(path, name),
                    f"{what}.unknown",
                    f"'{name}' is not a {what} of this type; known: {known}",
                )
                continue
            self.check(node, schema, join(path, name))
        for name, schema in definitions.items():
            if name not in given and schema.is_required and schema.default is None:
                if name == "description" and schema.type == "string":
                    self.log.add(
                        owner.mark(self.file),
                        join(path, name),
                        MISSING_DESCRIPTION.code,
                        f"required {what} 'description' (string) is missing; {TOLERATED_NOTE}",
                        "warning",
                    )
                    continue
                self.log.add(
                    owner.mark(self.file),
                    join(path, name),
                    f"{what}.required",
                    f"required {what} '{name}' ({schema.type or 'any'}) is missing "
                    "and its type gives no default",
                )

    def check(self, node: Node, schema: Schema, path: str) -> None:
        call = function_call(node)
        if call is not None:
            self.function(call[0], call[1], node, path)
            return
        if node.value is None:
            return
        resolved = self.registry.resolve("data", schema.type) if schema.type else None
        if resolved is None:
            return
        base = resolved.primitive
        if base is None:
            entries = node.value
            if not isinstance(entries, dict):
                self._wrong(node, path, f"a {resolved.name} (a mapping of its properties)")
                return
            self.properties(entries, resolved.properties, path, node)
        elif not self._primitive(node, base, schema, path):
            return
        for constraint in schema.constraints:
            self._constraint(node, constraint, base, path)

    def _primitive(self, node: Node, base: str, schema: Schema, path: str) -> bool:
        value = node.value
        if base in {"list", "map"}:
            if base == "list" and isinstance(value, list):
                children = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
            elif base == "map" and isinstance(value, dict):
                children = [(join(path, key), item) for key, item in value.items()]
            else:
                self._wrong(node, path, _EXPECTED[base])
                return False
            if schema.entry is not None:
                for child_path, child in children:
                    self.check(child, schema.entry, child_path)
            return True
        if base in UNITS:
            if parse_scalar(base, value) is None:
                self._wrong(
                    node,
                    path,
                    f"a {base} such as '10 {next(iter(UNITS[base]))}' (units: {unit_names(base)})",
                )
                return False
            return True
        ok = {
            "string": isinstance(value, str),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
            "range": parse_range(plain(node)) is not None,
            "version": isinstance(value, str | int | float) and not isinstance(value, bool),
            "timestamp": isinstance(value, str),
            "null": value is None,
        }.get(base, True)
        if not ok:
            hint = " (quote it to make it a string)" if base == "string" else ""
            self._wrong(node, path, _EXPECTED.get(base, base), hint)
        return ok

    def _wrong(self, node: Node, path: str, expected: str, hint: str = "") -> None:
        self.log.add(
            node.mark(self.file),
            path,
            "property.type",
            f"expected {expected}, found {describe(node)}{hint}",
        )

    def function(self, name: str, argument: Node, node: Node, path: str) -> None:
        if name != "get_input":
            return
        target = argument.value
        if isinstance(target, list) and target:
            target = target[0].value
        if not isinstance(target, str):
            self._wrong(argument, path, "an input name for get_input")
            return
        if self.inputs is not None and target not in self.inputs:
            known = ", ".join(sorted(self.inputs)) or "none"
            self.log.add(
                node.mark(self.file),
                path,
                "input.unknown",
                f"get_input refers to input '{target}', which topology_template.inputs "
                f"does not define (defined: {known})",
            )

    def _constraint(self, node: Node, constraint: Constraint, base: str | None, path: str) -> None:
        value = plain(node)
        verdict = satisfies(constraint.operator, constraint.argument, value, base)
        if verdict is False:
            argument = constraint.argument
            shown = plain(argument) if isinstance(argument, Node) else argument
            self.log.add(
                node.mark(self.file),
                path,
                "property.constraint",
                f"value {value!r} does not satisfy {constraint.operator} {shown!r}",
            )


def _measure(value: object, base: str | None) -> object:
    if base in UNITS and isinstance(value, str):
        return parse_scalar(base, value)
    return value


def satisfies(operator: str, argument: object, value: object, base: str | None) -> bool | None:
    """Whether a value meets one constraint; None when the constraint cannot be applied."""
    if isinstance(argument, Node):
        argument = plain(argument)
    try:
        measured = _measure(value, base)
        if operator == "valid_values":
            if not isinstance(argument, list):
                return None
            return any(_measure(a, base) == measured for a in argument)
        if operator == "equal":
            return bool(_measure(argument, base) == measured)
        if operator == "in_range":
            if not isinstance(argument, list) or len(argument) != 2:
                return None
            low, high = (_measure(a, base) for a in argument)
            if isinstance(high, str) and high.upper() == "UNBOUNDED":
                high = float("inf")
            return bool(low <= measured <= high)  # type: ignore[operator]
        if operator in {"length", "min_length", "max_length"}:
            size = len(value) if isinstance(value, str | list | dict) else None
            if size is None or not isinstance(argument, int):
                return None
            return {
                "length": size == argument,
                "min_length": size >= argument,
                "max_length": size <= argument,
            }[operator]
        if operator == "pattern":
            if not isinstance(argument, str) or not isinstance(value, str):
                return None
            return re.fullmatch(argument, value) is not None
        bound = _measure(argument, base)
        if not isinstance(measured, int | float) or not isinstance(bound, int | float):
            return None
        comparisons = {
            "greater_than": measured > bound,
            "greater_or_equal": measured >= bound,
            "less_than": measured < bound,
            "less_or_equal": measured <= bound,
        }
        return comparisons.get(operator)
    except (TypeError, re.error):
        return None
