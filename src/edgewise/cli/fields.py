"""`--set key=value` options of the SD-WAN commands: a dotted key (probe.hold_s) and a JSON
value (a bare word is a string; null removes the field in an update), turned into the object
the central's contract reads. The central names every bad field; here only the shape is
checked."""

from __future__ import annotations

import json
from typing import Any

from edgewise.cli.errors import CliError


def parse_sets(values: list[str] | None, option: str = "--set") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for value in values or []:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise CliError(f"{option} {value!r}: write it as key=value", exit_code=2)
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            parsed = text
        target = found
        *parents, last = key.split(".")
        for parent in parents:
            nested = target.setdefault(parent, {})
            if not isinstance(nested, dict):
                raise CliError(f"{option} {value!r}: {parent} is set twice", exit_code=2)
            target = nested
        target[last] = parsed
    return found


def given(**options: Any) -> dict[str, Any]:
    """The options that were given (not None), under the contract's names."""
    return {key: value for key, value in options.items() if value is not None}
