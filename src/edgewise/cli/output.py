"""How the CLI shows results: a rich table for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
errors = Console(stderr=True)

Column = tuple[str, Callable[[dict[str, Any]], Any]]


def show_items(
    items: Iterable[dict[str, Any]], columns: Sequence[Column], *, as_json: bool, title: str = ""
) -> None:
    rows = list(items)
    if as_json:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return
    table = Table(title=title or None, title_justify="left")
    for name, _ in columns:
        table.add_column(name)
    for row in rows:
        table.add_row(*(_text(getter(row)) for _, getter in columns))
    console.print(table)
    if not rows:
        console.print("(none)")


def show_item(item: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(item, indent=2, sort_keys=True))
        return
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for key, value in item.items():
        if key == "_links":
            continue
        table.add_row(key, _text(value))
    console.print(table)


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)
