"""The southbound listener's JSON reader: a request body becomes a bounded JSON object here, or a
400 `Invalid` saying where and why, before any handler (or the store) sees it."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from itertools import islice
from typing import Any

from edgewise.central.services.errors import InputProblem, Invalid

MAX_DEPTH = 32  # objects and arrays within each other: a site's report nests about 6
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # what every store column and JSON reader holds
MAX_STRING = 64 * 1024  # characters in one string (a body is at most 1 MiB anyway)
MAX_PROBLEMS = 20  # places named in one refusal
SUSPECT = re.compile(r"\\u(?:0000|[dD][89abAB])|[0-9]{19}|[0-9.][eE]\+?[0-9]{3,}[\s,\]}]")


def read_object(raw: bytes) -> dict[str, Any]:
    """`raw` as a JSON object within the bounds above; Invalid naming the place otherwise."""
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise Invalid(f"the body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        body = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise Invalid(f"the body nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, NaN, a number of over 4300 digits
        raise Invalid(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    if not _within_bounds(body, text):
        problems = list(islice(out_of_bounds(body), MAX_PROBLEMS))
        raise Invalid("the body is out of bounds", problems)
    return body


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _within_bounds(body: dict[str, Any], text: str) -> bool:
    """The fast check, run on every body (`out_of_bounds` says where, when it fails): depth
    and string lengths level by level; the other scalars only when the raw text holds a suspect
    (a \\u0000 or surrogate escape, 19 digits in a row, a number with a 3-digit exponent)."""
    level: list[dict[str, Any] | list[Any]] = [body]
    for _ in range(MAX_DEPTH):
        below: list[Any] = []
        for container in level:
            for value in container.values() if type(container) is dict else container:
                kind = type(value)
                if kind is dict or kind is list:
                    below.append(value)
                elif kind is str and len(value) > MAX_STRING:
                    return False
        if not below:
            break
        level = below
    else:
        return False
    return SUSPECT.search(text) is None or next(out_of_bounds(body), None) is None


def out_of_bounds(body: object) -> Iterator[InputProblem]:
    """Each place where `body` passes a bound, as a path (`items[2].body.revision`) and why."""
    stack: list[tuple[object, str, int]] = [(body, "", 1)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            yield InputProblem(where, f"nests deeper than {MAX_DEPTH} levels")
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                if not _fine_string(key):
                    yield InputProblem(path[:200], _string_problem(key))
                stack.append((item, path, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))
        elif not _fine_scalar(value):
            yield InputProblem(where, _scalar_problem(value))


def _fine_scalar(value: object) -> bool:
    if isinstance(value, str):
        return _fine_string(value)
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return INT_MIN <= value <= INT_MAX
    return isinstance(value, float) and math.isfinite(value)


def _fine_string(text: str) -> bool:
    if len(text) > MAX_STRING or "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _scalar_problem(value: object) -> str:
    if isinstance(value, str):
        return _string_problem(value)
    if isinstance(value, float):
        return f"{value} is not a finite number"
    return f"{str(value)[:40]} is outside the signed 64-bit integer range"


def _string_problem(text: str) -> str:
    if len(text) > MAX_STRING:
        return f"a string of {len(text)} characters; at most {MAX_STRING}"
    if "\x00" in text:
        return "a string holds a NUL character (\\u0000)"
    return "a string holds an unpaired surrogate (not Unicode text)"
