"""libyaml access for yamltree: a guarded C composer and scalar typing, nothing positioned yet.

Composing is libyaml's C code, but it recurses once per nesting level, so text that might
nest deeper than it can take is measured first: a byte-level bound that costs a regular
expression pass, then the exact (event by event) count only when the bound is inconclusive.
Implicit tags are resolved after composing, only for plain scalars, by PyYAML's own rules.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import yaml
from yaml._yaml import CParser

from edgewise.tosca.problems import Mark, ProblemLog

Scalar = str | int | float | bool | None

SAFE_UNSCANNED_DEPTH = 1500
_TAG = "tag:yaml.org,2002:"
_PLAIN = "?"  # the tag of a plain, untagged scalar until resolve_scalar types it
_STR = _TAG + "str"
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers
_SCALAR_NODE = yaml.ScalarNode
# What may open a block collection on a line before its first key or entry: indentation,
# indicators ("- ", "? ", ": ", "--- ") and node properties (&anchor, !tag).
_LINE_PREFIX = re.compile(r"^[ \t]*(?:(?:[-?:]|---)[ \t]+|[&!][^ \t\n]*[ \t]+)*", re.MULTILINE)
_OTHER_BREAKS = ("\x85", "\u2028", "\u2029")


class _Positioned(Protocol):
    """Where libyaml or PyYAML stopped (their two Mark classes), 0-based."""

    line: int
    column: int


class _Composer(CParser):
    """libyaml's composer with tag resolution deferred: composing no longer calls Python per
    node to match regular expressions against scalars that only become strings anyway."""

    def resolve(self, kind: object, _value: object, implicit: tuple[bool, bool] | bool) -> str:
        # implicit is a pair for scalars and a flag for collections, whose tags go unread
        if kind is _SCALAR_NODE and implicit[0]:  # type: ignore[index]
            return _PLAIN
        return _STR

    def descend_resolver(self, _node: object, _index: object) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Composing makes tens of thousands of acyclic objects: the cyclic garbage collector
    would walk them again and again for nothing, so it waits until the tree is built."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compose_node(text: str) -> yaml.Node | None:
    """One document's node graph (None for an empty stream); raises yaml.YAMLError."""
    composer = _Composer(text)
    try:
        node: yaml.Node | None = composer.get_single_node()
    finally:
        composer.dispose()
    return node


def depth_bound(text: str) -> int | None:
    """An upper bound on nesting depth, or None when the text defeats the cheap bound.

    A block collection starts where a line's prefix ends and its indentation must exceed its
    parent's (an indentless sequence shares its mapping's), so block levels are at most twice
    the longest prefix plus two; a flow level needs a bracket.
    """
    if text.count("\r") != text.count("\r\n") or any(b in text for b in _OTHER_BREAKS):
        return None
    longest = max(map(len, _LINE_PREFIX.findall(text)), default=0)
    return 2 * longest + 2 + text.count("[") + text.count("{")


def depth_ok(text: str, file: str, max_depth: int, log: ProblemLog) -> bool:
    """The exact check: walk libyaml's event stream (its parser does not recurse)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > max_depth:
                    refuse_depth(event.start_mark, file, max_depth, log)
                    return False
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        if not is_depth_refusal(exc):
            raise
        refuse_depth(exc.problem_mark or exc.context_mark, file, max_depth, log)
        return False
    return True


def is_depth_refusal(exc: yaml.MarkedYAMLError) -> bool:
    """Whether the parser itself refused the nesting (PyYAML 6.0.4 and later stop at about a
    thousand levels, reading ahead of the events): the same fault as our own limit."""
    return "maximum nesting depth" in (exc.problem or "")


def refuse_depth(mark: _Positioned | None, file: str, max_depth: int, log: ProblemLog) -> None:
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    log.add(
        Mark(file, line, column), "", "limit.depth", f"nesting is deeper than {max_depth} levels"
    )


def guarded(text: str, file: str, max_depth: int, log: ProblemLog) -> bool:
    """Whether the text may be composed: nesting provably shallow, or measured and within."""
    bound = depth_bound(text)
    if bound is not None and bound <= SAFE_UNSCANNED_DEPTH:
        return True
    return depth_ok(text, file, max_depth, log)


def scalar_value(source: yaml.Node) -> Scalar:
    """A scalar node's value typed by its tag (YAML 1.1 implicit rules for plain scalars)."""
    value: str = source.value
    tag: str = source.tag
    if tag == _STR:
        return value
    if tag == _PLAIN:
        for implicit_tag, pattern in _IMPLICIT.get(value[:1], ()):
            if pattern.match(value):
                tag = implicit_tag
                break
        else:
            return value
    if not tag.startswith(_TAG):
        return value
    kind = tag[len(_TAG) :]
    if kind == "int":
        return _int(value)
    if kind == "float":
        return _float(value)
    if kind == "bool":
        return value.lower() in {"yes", "true", "on", "y"}
    if kind == "null":
        return None
    return value


def _int(text: str) -> int | str:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    try:
        if digits.startswith(("0x", "0o", "0b")):
            return sign * int(digits, 0)
        if ":" in digits:
            total = 0
            for part in digits.split(":"):
                total = total * 60 + int(part)
            return sign * total
        if len(digits) > 1 and digits.startswith("0"):
            return sign * int(digits, 8)
        return sign * int(digits)
    except ValueError:
        return text


def _float(text: str) -> float | str:
    lowered = text.replace("_", "").lower()
    if lowered in {".inf", "+.inf"}:
        return float("inf")
    if lowered == "-.inf":
        return float("-inf")
    if lowered == ".nan":
        return float("nan")
    try:
        return float(lowered)
    except ValueError:
        return text
