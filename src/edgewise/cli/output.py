"""How the CLI shows results: plain aligned text for people, JSON for scripts. Values are
printed as they are — never through markup (a `:ab:` in a fingerprint stays `:ab:`), never cut
to the terminal's width — and nested values as readable text, not Python reprs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console

console = Console()  # progress bars and coloured verdicts only; results go through print()
errors = Console(stderr=True)

Column = tuple[str, Callable[[dict[str, Any]], Any]]
HIDDEN = frozenset({"_links"})


def error_line(text: str) -> None:
    """One line on stderr, as it is (not wrapped at the terminal's width, no markup)."""
    print(text, file=sys.stderr)


def show_items(
    items: Iterable[dict[str, Any]], columns: Sequence[Column], *, as_json: bool, title: str = ""
) -> None:
    rows = list(items)
    if as_json:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return
    if title:
        print(f"{title}:")
    if not rows:
        print("(none)")
        return
    cells = [[name.upper() for name, _ in columns]]
    cells += [[cell(getter(row)) for _, getter in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        print(
            "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        )


def show_item(item: Mapping[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(item, indent=2, sort_keys=True))
        return
    print("\n".join(item_lines(item)))


def item_lines(item: Mapping[str, Any], indent: int = 0) -> list[str]:
    """`key: value` lines, aligned; a nested object or a list of them indented below its key."""
    keys = [k for k in item if k not in HIDDEN]
    width = max((len(k) for k in keys), default=0) + 1
    pad = " " * indent
    lines: list[str] = []
    for key in keys:
        value = item[key]
        if isinstance(value, Mapping) and value:
            lines += [f"{pad}{key}:", *item_lines(value, indent + 2)]
        elif isinstance(value, list) and any(isinstance(v, Mapping | list) for v in value):
            lines.append(f"{pad}{key}:")
            lines += list_lines(value, indent + 2)
        else:
            lines.append(f"{pad}{(key + ':').ljust(width)} {cell(value)}".rstrip())
    return lines


def list_lines(values: list[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for value in values:
        if isinstance(value, Mapping) and value:
            nested = item_lines(value, indent + 2)
            lines += [f"{pad}- {nested[0].lstrip()}", *nested[1:]]
        else:
            lines.append(f"{pad}- {cell(value)}")
    return lines


def named(ref: str, found_id: str) -> str:
    """How a command names what it acted on: `branch-1 (ID)`, or the id alone if given."""
    return found_id if ref == found_id else f"{ref} ({found_id})"


def cell(value: Any) -> str:
    """One value on one line: `-` for nothing, `k=v, ...` for an object, `a, b` for a list."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_nested(v)}" for k, v in value.items() if k not in HIDDEN) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(_nested(v) for v in value) or "-"
    return str(value)


def _nested(value: Any) -> str:
    if isinstance(value, Mapping | list | tuple) and value:
        return "{" + cell(value) + "}" if isinstance(value, Mapping) else "[" + cell(value) + "]"
    return cell(value)
