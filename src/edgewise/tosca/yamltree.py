"""YAML layer: bytes -> positioned Node tree through libyaml's composer, within Limits.

Every node keeps its 1-based line and column, so later stages can point at the exact spot.
Duplicate keys, anchors that expand too far, recursive aliases and deep nesting become
problems here; nothing beyond this module sees a PyYAML object.
"""

from __future__ import annotations

from typing import Union

import yaml

from edgewise.tosca.limits import Limits
from edgewise.tosca.problems import Mark, ProblemLog

Scalar = str | int | float | bool | None
NodeValue = Union[dict[str, "Node"], list["Node"], Scalar]  # noqa: UP007

_SAFE_UNSCANNED_DEPTH = 1500
_TAG = "tag:yaml.org,2002:"


class Node:
    """A YAML value with the position where it starts."""

    __slots__ = ("column", "line", "value")

    def __init__(self, value: NodeValue, line: int, column: int) -> None:
        self.value = value
        self.line = line
        self.column = column

    def __repr__(self) -> str:
        return f"Node({self.value!r}@{self.line}:{self.column})"

    def mark(self, file: str) -> Mark:
        return Mark(file, self.line, self.column)


def plain(node: Node) -> object:
    """The node as plain Python values (dicts, lists, scalars), positions dropped."""
    value = node.value
    if isinstance(value, dict):
        return {key: plain(child) for key, child in value.items()}
    if isinstance(value, list):
        return [plain(child) for child in value]
    return value


def decode(data: bytes, file: str, log: ProblemLog) -> str | None:
    """UTF-8 (with or without BOM) text of a file, or a problem pointing at the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        log.add(
            Mark(file, line, column),
            "",
            "yaml.encoding",
            f"byte 0x{data[exc.start]:02x} is not valid UTF-8; descriptors must be UTF-8 text",
        )
        return None


def compose(text: str, file: str, limits: Limits, log: ProblemLog) -> Node | None:
    """Compose one YAML document into a Node tree, or None after logging why it cannot be."""
    if "\x00" in text:
        log.add(Mark(file, 1, 1), "", "yaml.syntax", "the file contains NUL characters")
        return None
    try:
        if _depth_bound(text) > _SAFE_UNSCANNED_DEPTH and not _depth_ok(text, file, limits, log):
            return None
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        reason = exc.problem or exc.context or "unreadable YAML"
        log.add(Mark(file, line, column), "", "yaml.syntax", f"YAML syntax error: {reason}")
        return None
    except (yaml.YAMLError, ValueError) as exc:
        log.add(Mark(file, 1, 1), "", "yaml.syntax", f"YAML cannot be read: {exc}")
        return None
    if root is None:
        log.add(Mark(file, 1, 1), "", "yaml.empty", "the file holds no YAML document")
        return None
    return _Converter(file, limits, log).convert(root)


def _depth_bound(text: str) -> int:
    """A cheap upper bound on nesting depth: block levels need columns, flow levels brackets."""
    widest = max((len(line) for line in text.splitlines()), default=0)
    return 2 * widest + 2 + text.count("[") + text.count("{")


def _depth_ok(text: str, file: str, limits: Limits, log: ProblemLog) -> bool:
    """Walk the event stream (no recursion in libyaml's parser) to measure nesting exactly."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limits.max_depth:
                mark = event.start_mark
                line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
                log.add(
                    Mark(file, line, column),
                    "",
                    "limit.depth",
                    f"nesting is deeper than {limits.max_depth} levels",
                )
                return False
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return True


class _Converter:
    """Turns composed PyYAML nodes into Nodes, sharing aliased subtrees but bounding expansion."""

    def __init__(self, file: str, limits: Limits, log: ProblemLog) -> None:
        self.file = file
        self.limits = limits
        self.log = log
        self.done: dict[int, tuple[Node, int]] = {}
        self.active: set[int] = set()
        self.failed = False

    def convert(self, root: yaml.Node) -> Node | None:
        node, size = self._node(root, 1)
        if self.failed:
            return None
        if size > self.limits.max_nodes:
            self.log.add(
                Mark(self.file, node.line, node.column),
                "",
                "limit.nodes",
                f"the document expands to more than {self.limits.max_nodes} values "
                "(aliases that repeat other aliases?)",
            )
            return None
        return node

    def _stop(self, source: yaml.Node, code: str, message: str) -> tuple[Node, int]:
        mark = source.start_mark
        self.log.add(Mark(self.file, mark.line + 1, mark.column + 1), "", code, message)
        self.failed = True
        return Node(None, mark.line + 1, mark.column + 1), 1

    def _node(self, source: yaml.Node, depth: int) -> tuple[Node, int]:
        key = id(source)
        known = self.done.get(key)
        if known is not None:
            return known
        if key in self.active:
            return self._stop(source, "yaml.recursive-alias", "an alias refers to itself")
        if depth > self.limits.max_depth:
            return self._stop(
                source, "limit.depth", f"nesting is deeper than {self.limits.max_depth} levels"
            )
        line, column = source.start_mark.line + 1, source.start_mark.column + 1
        self.active.add(key)
        if isinstance(source, yaml.MappingNode):
            result = self._mapping(source, depth, line, column)
        elif isinstance(source, yaml.SequenceNode):
            items = [self._node(item, depth + 1) for item in source.value]
            size = 1 + sum(size for _, size in items)
            result = Node([item for item, _ in items], line, column), size
        else:
            result = Node(_scalar(source), line, column), 1
        self.active.discard(key)
        self.done[key] = result
        return result

    def _mapping(
        self, source: yaml.MappingNode, depth: int, line: int, column: int
    ) -> tuple[Node, int]:
        entries: dict[str, Node] = {}
        seen: dict[str, yaml.Node] = {}
        size = 1
        for key_node, value_node in source.value:
            if not isinstance(key_node, yaml.ScalarNode):
                mark = key_node.start_mark
                self.log.add(
                    Mark(self.file, mark.line + 1, mark.column + 1),
                    "",
                    "yaml.complex-key",
                    "a mapping key must be a plain name, not a list or a mapping",
                )
                continue
            name = str(key_node.value)
            first = seen.get(name)
            if first is not None:
                self._duplicate(name, first, key_node)
            seen[name] = key_node
            child, child_size = self._node(value_node, depth + 1)
            size += child_size
            entries[name] = child
        return Node(entries, line, column), size

    def _duplicate(self, name: str, first: yaml.Node, again: yaml.Node) -> None:
        one, two = first.start_mark, again.start_mark
        self.log.add(
            Mark(self.file, two.line + 1, two.column + 1),
            name,
            "yaml.duplicate-key",
            f"key '{name}' appears twice in the same mapping, at line {one.line + 1} column "
            f"{one.column + 1} and at line {two.line + 1} column {two.column + 1}; "
            "the second one is used, as other YAML readers do",
            "warning",
        )


def _scalar(source: yaml.Node) -> Scalar:
    value = str(source.value)
    tag = source.tag
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
