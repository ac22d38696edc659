"""YAML layer: bytes -> positioned Node tree through libyaml's composer, within Limits.

Every node keeps its 1-based line and column, so later stages can point at the exact spot.
Duplicate keys, anchors that expand too far, recursive aliases and deep nesting become
problems here; nothing beyond this module (and yamlscan, which composes) sees a PyYAML object.
"""

from __future__ import annotations

from typing import Union

import yaml

from edgewise.tosca.limits import Limits
from edgewise.tosca.problems import Mark, ProblemLog
from edgewise.tosca.yamlscan import (
    Scalar,
    collector_paused,
    compose_node,
    guarded,
    is_depth_refusal,
    refuse_depth,
    scalar_value,
)

NodeValue = Union[dict[str, "Node"], list["Node"], Scalar]  # noqa: UP007
_SCALAR = yaml.ScalarNode


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
    with collector_paused():
        return _compose(text, file, limits, log)


def _compose(text: str, file: str, limits: Limits, log: ProblemLog) -> Node | None:
    if "\x00" in text:
        log.add(Mark(file, 1, 1), "", "yaml.syntax", "the file contains NUL characters")
        return None
    try:
        if not guarded(text, file, limits.max_depth, log):
            return None
        root = compose_node(text)
    except yaml.MarkedYAMLError as exc:
        if is_depth_refusal(exc):
            refuse_depth(exc.problem_mark or exc.context_mark, file, limits.max_depth, log)
            return None
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
    if "*" not in text:  # no alias, so no shared subtree: the plain walk is enough
        return _TreeConverter(file, limits, log).convert(root)
    return _Converter(file, limits, log).convert(root)


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
            result = Node(scalar_value(source), line, column), 1
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
                self._complex_key(key_node)
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

    def _complex_key(self, key_node: yaml.Node) -> None:
        mark = key_node.start_mark
        self.log.add(
            Mark(self.file, mark.line + 1, mark.column + 1),
            "",
            "yaml.complex-key",
            "a mapping key must be a plain name, not a list or a mapping",
        )

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


class _TreeConverter(_Converter):
    """The converter for documents without aliases, where every node is visited once: no
    memo, no cycle tracking, and the node count is simply the number of nodes made."""

    def convert(self, root: yaml.Node) -> Node | None:
        self.count = 1
        node = self._tree(root, 1)
        if self.failed:
            return None
        if self.count > self.limits.max_nodes:
            self.log.add(
                node.mark(self.file),
                "",
                "limit.nodes",
                f"the document has more than {self.limits.max_nodes} values",
            )
            return None
        return node

    def _tree(self, source: yaml.Node, depth: int) -> Node:
        """The node and its subtree; scalar entries, most nodes, are made inline."""
        if depth > self.limits.max_depth:
            return self._stop(
                source, "limit.depth", f"nesting is deeper than {self.limits.max_depth} levels"
            )[0]
        mark = source.start_mark
        value = source.value
        if type(source) is _SCALAR:
            return Node(scalar_value(source), mark.line + 1, mark.column + 1)
        self.count += len(value)
        deeper = depth + 1
        if deeper > self.limits.max_depth and value:  # entries would be too deep: stop there
            first = value[0] if type(source) is yaml.SequenceNode else value[0][1]
            return self._tree(first, deeper)
        if type(source) is yaml.SequenceNode:
            items = [
                Node(scalar_value(item), item.start_mark.line + 1, item.start_mark.column + 1)
                if type(item) is _SCALAR
                else self._tree(item, deeper)
                for item in value
            ]
            return Node(items, mark.line + 1, mark.column + 1)
        entries: dict[str, Node] = {}
        seen: dict[str, yaml.Node] = {}
        for key_node, item in value:
            if type(key_node) is not _SCALAR:
                self._complex_key(key_node)
                continue
            name = str(key_node.value)
            if name in seen:
                self._duplicate(name, seen[name], key_node)
            seen[name] = key_node
            if type(item) is _SCALAR:
                start = item.start_mark
                entries[name] = Node(scalar_value(item), start.line + 1, start.column + 1)
            else:
                entries[name] = self._tree(item, deeper)
        return Node(entries, mark.line + 1, mark.column + 1)
