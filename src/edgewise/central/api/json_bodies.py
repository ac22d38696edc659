"""What a JSON request body may hold, checked once as it arrives (`limits.BodySizeLimit` calls
`read_json`): strict JSON (no NaN or Infinity), integers that fit 64 bits, finite numbers, no NUL
in a string, and a bounded depth and count of values, so nothing stored can later break a reader."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from edgewise.central.services.errors import InputProblem

INT64 = 2**63
NUL = "a NUL character (\\u0000), which no store keeps"


@dataclass(frozen=True)
class JsonBounds:
    max_depth: int = 32  # objects and arrays inside one another
    max_values: int = 500_000  # objects, arrays, strings, numbers, true, false, null


class BodyRefused(Exception):
    """The body is not one this API reads; `problem` says where and why."""

    def __init__(self, problem: InputProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _constant(name: str) -> Any:
    raise BodyRefused(InputProblem("body", f"{name} is not a JSON number; send a finite number"))


def _integer(text: str) -> int:
    value = int(text)
    if not -INT64 <= value < INT64:
        raise BodyRefused(
            InputProblem("body", f"the integer {text[:24]}... does not fit in 64 bits")
        )
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BodyRefused(InputProblem("body", f"the number {text[:24]} is too large"))
    return value


def read_json(data: bytes, bounds: JsonBounds) -> Any:
    """The value of a JSON body; BodyRefused when it is not JSON or passes a bound."""
    try:
        value = json.loads(data, parse_constant=_constant, parse_int=_integer, parse_float=_float)
    except BodyRefused:
        raise
    except json.JSONDecodeError as exc:
        raise BodyRefused(
            InputProblem("body", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        ) from exc
    except (ValueError, RecursionError) as exc:  # not UTF-8, an integer of 4,300+ digits, ...
        raise BodyRefused(InputProblem("body", f"not JSON this API reads: {exc}")) from exc
    if not _within(value, bounds):
        _locate(value, bounds)  # raises, naming where
    return value


def _within(value: Any, bounds: JsonBounds) -> bool:
    """Whether the value keeps to the bounds: one walk without recursion, tracking no paths."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    seen = 0
    while pending:
        item, depth = pending.pop()
        seen += 1
        if seen > bounds.max_values:
            return False
        if isinstance(item, str):
            if "\x00" in item:
                return False
        elif isinstance(item, dict):
            if depth >= bounds.max_depth or any("\x00" in key for key in item):
                return False
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            if depth >= bounds.max_depth:
                return False
            pending.extend((child, depth + 1) for child in item)
    return True


def _locate(value: Any, bounds: JsonBounds) -> None:
    """The walk again, with paths, to say where the value passes a bound (BodyRefused)."""
    pending: list[tuple[Any, int, str]] = [(value, 0, "")]
    seen = 0
    while pending:
        item, depth, where = pending.pop()
        seen += 1
        if seen > bounds.max_values:
            raise BodyRefused(
                InputProblem("body", f"more than {bounds.max_values} values; split the request")
            )
        if isinstance(item, str):
            if "\x00" in item:
                raise BodyRefused(InputProblem(where or "body", NUL))
            continue
        if isinstance(item, dict):
            if any("\x00" in key for key in item):
                raise BodyRefused(InputProblem(where or "body", f"a name has {NUL}"))
            children: Any = ((f"{where}.{key}" if where else key, c) for key, c in item.items())
        elif isinstance(item, list):
            children = ((f"{where}[{i}]", child) for i, child in enumerate(item))
        else:
            continue
        if depth >= bounds.max_depth:
            raise BodyRefused(
                InputProblem(where or "body", f"nested more than {bounds.max_depth} levels deep")
            )
        pending.extend((child, depth + 1, path) for path, child in children)
