"""`edgewise operation`: NS life-cycle operation occurrences (SOL005 NsLcmOpOcc) — list and show
them, and settle a failed one: retry, rollback, continue, cancel, fail. Each is named by its id
or an unambiguous id prefix."""

from __future__ import annotations

from typing import Annotated

import typer

from edgewise.cli.context import cli_context
from edgewise.cli.ns import OP_COLUMNS, OPS, TimeoutOption, WaitOption, after_start
from edgewise.cli.output import show_item, show_items
from edgewise.cli.resolve import NS, OPERATION, resolve

app = typer.Typer(
    help="NS life-cycle operations: list, show, and settle a failed one.", no_args_is_help=True
)
OpRef = Annotated[str, typer.Argument(help="the operation's id or id prefix")]


@app.command("list")
def list_operations(
    ctx: typer.Context,
    ns: Annotated[
        str | None, typer.Option(help="only this NS instance's operations (name or id)")
    ] = None,
) -> None:
    """Lists operation occurrences, oldest first."""
    cli = cli_context(ctx)
    params = {"nsInstanceId": resolve(cli.client, NS, ns)} if ns else None
    found = sorted(cli.client.list_all(OPS, params), key=lambda o: (o["startTime"], o["id"]))
    show_items(found, OP_COLUMNS, as_json=cli.as_json, title="Operations")


@app.command("show")
def show(ctx: typer.Context, op: OpRef) -> None:
    """Shows one operation occurrence."""
    cli = cli_context(ctx)
    show_item(cli.client.get_json(f"{OPS}/{resolve(cli.client, OPERATION, op)}"),
              as_json=cli.as_json)  # fmt: skip


@app.command("retry")
def retry(
    ctx: typer.Context, op: OpRef, wait: WaitOption = True, timeout: TimeoutOption = 300.0
) -> None:
    """Retries a FAILED_TEMP operation on the sites that had not applied it."""
    _settle(ctx, op, "retry", wait, timeout)


@app.command("rollback")
def rollback(
    ctx: typer.Context, op: OpRef, wait: WaitOption = True, timeout: TimeoutOption = 300.0
) -> None:
    """Rolls a FAILED_TEMP operation back to what the sites ran before it."""
    _settle(ctx, op, "rollback", wait, timeout, ok=("ROLLING_BACK", "ROLLED_BACK"))


@app.command("continue")
def continue_(
    ctx: typer.Context, op: OpRef, wait: WaitOption = True, timeout: TimeoutOption = 300.0
) -> None:
    """A FAILED_TEMP operation waits for its sites again, with a new deadline."""
    _settle(ctx, op, "continue", wait, timeout)


@app.command("cancel")
def cancel(ctx: typer.Context, op: OpRef) -> None:
    """Stops a PROCESSING or ROLLING_BACK operation: it becomes FAILED_TEMP at once."""
    _settle(ctx, op, "cancel", wait=False, timeout=1.0, ok=("FAILED_TEMP",))


@app.command("fail")
def fail(ctx: typer.Context, op: OpRef) -> None:
    """Marks a FAILED_TEMP operation FAILED for good."""
    cli = cli_context(ctx)
    op_id = resolve(cli.client, OPERATION, op)
    show_item(cli.client.post_json(f"{OPS}/{op_id}/fail", {}), as_json=cli.as_json)


def _settle(
    ctx: typer.Context, op: str, task: str, wait: bool, timeout: float, ok: tuple[str, ...] = ()
) -> None:
    """Asks for `task` on the operation and shows it (followed, with `wait`); fails unless it
    ends PROCESSING, COMPLETED or in one of the states `ok`."""
    cli = cli_context(ctx)
    op_id = resolve(cli.client, OPERATION, op)
    response = cli.client.request("POST", f"{OPS}/{op_id}/{task}", json={})
    location = response.headers.get("Location") or f"{OPS}/{op_id}"
    after_start(cli.client, location, wait, timeout, cli.as_json, ok=ok)
