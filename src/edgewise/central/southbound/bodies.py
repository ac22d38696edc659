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
ESCAPE = re.compile(rb"\\.")
STRING = re.compile(rb'"[^"]*"')
NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}')
DIGITS_AS_ZERO = bytes.maketrans(b"123456789E", b"000000000e")
BIG_EXPONENT = re.compile(rb"e\+?000+[\s,\]}]")  # in the text with its digits as zeros
BAD_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89abAB])")  # NUL, or half a surrogate pair


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
    if not _surely_within_bounds(raw):
        problems = list(islice(out_of_bounds(body), MAX_PROBLEMS))
        if problems:
            raise Invalid("the body is out of bounds", problems)
    return body


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _surely_within_bounds(raw: bytes) -> bool:
    """True when `raw` (JSON that parsed) certainly keeps the bounds, at the speed of a few
    scans in C; False when only `out_of_bounds`, a walk in Python, can tell. It looks for a
    suspect (a \\u0000 or surrogate escape, 19 digits in a row, a 3-digit exponent), a run of
    65,536 bytes between quotes, and strips the text to its brackets: each pass takes off the
    innermost level of lists, then of objects (so at most two), and 16 passes must leave none.
    """
    zeros = raw.translate(DIGITS_AS_ZERO)
    if b"0" * 19 in zeros or BIG_EXPONENT.search(zeros):
        return False
    if b"\\u" in raw and BAD_ESCAPE.search(raw):
        return False
    flat = ESCAPE.sub(b"e", raw) if b"\\" in raw else raw  # each escape as one character
    if len(flat) > MAX_STRING and max(map(len, flat.split(b'"'))) > MAX_STRING:
        return False
    brackets = flat.translate(None, NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in brackets:
        brackets = STRING.sub(b"", brackets)
    for _ in range(MAX_DEPTH // 2):
        if not brackets:
            return True
        brackets = brackets.replace(b"[]", b"").replace(b"{}", b"")
    return not brackets


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
