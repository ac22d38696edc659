"""Shape checks on Nodes: a map where a map is expected, a name where a name is; else a Problem."""

from __future__ import annotations

from edgewise.tosca.problems import ProblemLog
from edgewise.tosca.yamltree import Node

_KIND_NAMES = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}


def describe(node: Node) -> str:
    """What a node holds, in words, for messages."""
    value = node.value
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string '{shown}'"
    return _KIND_NAMES[type(value)]


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class Shapes:
    """Shape checks bound to one file and one problem log."""

    def __init__(self, file: str, log: ProblemLog) -> None:
        self.file = file
        self.log = log

    def wrong(self, node: Node, path: str, expected: str, code: str = "schema.type") -> None:
        self.log.add(
            node.mark(self.file),
            path,
            code,
            f"expected {expected} here, found {describe(node)}",
        )

    def map(self, node: Node | None, path: str, *, optional: bool = True) -> dict[str, Node]:
        """The entries of a mapping; null counts as empty when optional."""
        if node is None:
            return {}
        if isinstance(node.value, dict):
            return node.value
        if node.value is None and optional:
            return {}
        self.wrong(node, path, "a mapping")
        return {}

    def seq(self, node: Node | None, path: str) -> list[Node]:
        if node is None or node.value is None:
            return []
        if isinstance(node.value, list):
            return node.value
        self.wrong(node, path, "a list")
        return []

    def name(self, node: Node | None, path: str) -> str | None:
        """A string (numbers are accepted as their text, as names often are)."""
        if node is None:
            return None
        value = node.value
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.wrong(node, path, "a name (string)")
        return None

    def single(self, node: Node, path: str) -> tuple[str, Node] | None:
        """The one entry of a single-key mapping, as lists of requirements or policies use."""
        entries = self.map(node, path, optional=False)
        if len(entries) != 1:
            if isinstance(node.value, dict):
                self.wrong(node, path, "a mapping with exactly one key")
            return None
        return next(iter(entries.items()))

    def named_entries(self, node: Node | None, path: str) -> list[tuple[str, Node, str]]:
        """Entries of either a mapping or a list of single-key mappings, with their paths."""
        if node is None or node.value is None:
            return []
        if isinstance(node.value, dict):
            return [(key, child, join(path, key)) for key, child in node.value.items()]
        out: list[tuple[str, Node, str]] = []
        for index, item in enumerate(self.seq(node, path)):
            entry = self.single(item, f"{path}[{index}]")
            if entry is not None:
                out.append((entry[0], entry[1], f"{path}[{index}].{entry[0]}"))
        return out
