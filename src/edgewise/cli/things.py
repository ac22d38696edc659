"""The commands every named thing shares: show one and delete one, by name, id or id prefix
(`resolve`), where the API keeps it (the first of its kind's collections)."""

from __future__ import annotations

import typer

from edgewise.cli.context import cli_context
from edgewise.cli.output import named, show_item
from edgewise.cli.resolve import Kind, resolve


def show_one(ctx: typer.Context, kind: Kind, ref: str) -> None:
    cli = cli_context(ctx)
    found = resolve(cli.client, kind, ref)
    show_item(cli.client.get_json(f"{kind.collections[0]}/{found}"), as_json=cli.as_json)


def delete_one(ctx: typer.Context, kind: Kind, ref: str) -> None:
    cli = cli_context(ctx)
    found = resolve(cli.client, kind, ref)
    cli.client.request("DELETE", f"{kind.collections[0]}/{found}")
    print(f"deleted {kind.noun} {named(ref, found)}")
