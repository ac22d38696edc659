"""`edgewise rollout`: an NSD rolled out to a fleet in waves, with a live view."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from edgewise.cli.client import CentralClient
from edgewise.cli.context import cli_context
from edgewise.cli.errors import CliError
from edgewise.cli.output import console, show_item, show_items
from edgewise.cli.resolve import NSD, ROLLOUT, SITE_GROUP, TENANT, resolve

app = typer.Typer(help="Rollouts: an NSD to many sites, wave by wave.", no_args_is_help=True)
ROLLOUTS = "api/v1/rollouts"
RolloutId = Annotated[str, typer.Argument(help="the rollout's name, id or id prefix")]
ENDED = ("COMPLETED", "ABORTED", "PAUSED")

COLUMNS = [
    ("id", lambda r: r["id"]),
    ("name", lambda r: r["name"]),
    ("state", lambda r: r["state"]),
    ("wave", lambda r: f"{r['wave']}/{r['waves']}"),
    ("done", lambda r: f"{r['sites']['DONE']}/{r['total']}"),
    ("failed", lambda r: r["sites"]["FAILED"]),
    ("reason", lambda r: r.get("reason")),
]


@app.command("start")
def start(
    ctx: typer.Context,
    nsd: Annotated[
        str, typer.Argument(help="the NSD: its NsdInfo id or id prefix, name or descriptor id")
    ],
    name: Annotated[str, typer.Option(help="the rollout's name (NS instances: NAME-SITE)")],
    labels: Annotated[str | None, typer.Option(help="label selector k=v[,k=v]")] = None,
    group: Annotated[str | None, typer.Option(help="a site group: name, id or id prefix")] = None,
    kind: Annotated[str | None, typer.Option(help="on-premise or cloud")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="sites per wave")] = 100,
    max_failures: Annotated[int, typer.Option(min=0, help="failed sites before pausing")] = 0,
    tenant: Annotated[
        str | None, typer.Option(help="owning tenant: name, id or id prefix (admins)")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="follow it live")] = True,
    timeout: Annotated[float, typer.Option(min=1, help="seconds to follow it")] = 3600.0,
) -> None:
    """Starts a rollout and, with --wait, shows it live until it completes, pauses or aborts."""
    cli = cli_context(ctx)
    body: dict[str, Any] = {"name": name, "nsdId": resolve(cli.client, NSD, nsd),
                            "batchSize": batch_size,
                            "maxFailures": max_failures}  # fmt: skip
    if labels:
        body["labels"] = labels
    if group:
        body["group"] = resolve(cli.client, SITE_GROUP, group)
    if kind:
        body["placement"] = {"kind": kind}
    if tenant:
        body["tenantId"] = resolve(cli.client, TENANT, tenant)
    rollout = cli.client.post_json(ROLLOUTS, body)
    if wait:
        rollout = follow(cli.client, rollout["id"], timeout, show_progress=not cli.as_json)
    show_item(summary(rollout), as_json=cli.as_json)
    if rollout["state"] == "PAUSED":
        raise CliError(f"rollout {rollout['id']} paused: {rollout.get('reason')}")


@app.command("list")
def list_rollouts(ctx: typer.Context) -> None:
    """Lists rollouts."""
    cli = cli_context(ctx)
    show_items(cli.client.list_all(ROLLOUTS), COLUMNS, as_json=cli.as_json)


@app.command("show")
def show(ctx: typer.Context, rollout_id: RolloutId) -> None:
    """Shows a rollout: state, waves, sites by state, the first failures."""
    cli = cli_context(ctx)
    rollout_id = resolve(cli.client, ROLLOUT, rollout_id)
    show_item(summary(cli.client.get_json(f"{ROLLOUTS}/{rollout_id}")), as_json=cli.as_json)


@app.command("watch")
def watch(
    ctx: typer.Context,
    rollout_id: RolloutId,
    timeout: Annotated[float, typer.Option(min=1, help="seconds to follow it")] = 3600.0,
) -> None:
    """Follows a rollout live until it completes, pauses or aborts."""
    cli = cli_context(ctx)
    rollout_id = resolve(cli.client, ROLLOUT, rollout_id)
    show_item(summary(follow(cli.client, rollout_id, timeout)), as_json=cli.as_json)


@app.command("pause")
def pause(ctx: typer.Context, rollout_id: RolloutId) -> None:
    """No new wave starts; the wave in progress finishes."""
    _act(ctx, rollout_id, "pause")


@app.command("resume")
def resume(ctx: typer.Context, rollout_id: RolloutId) -> None:
    """Runs again with a fresh failure budget."""
    _act(ctx, rollout_id, "resume")


@app.command("abort")
def abort(ctx: typer.Context, rollout_id: RolloutId) -> None:
    """Stops for good; sites not started are skipped."""
    _act(ctx, rollout_id, "abort")


def _act(ctx: typer.Context, rollout_id: str, action: str) -> None:
    cli = cli_context(ctx)
    rollout_id = resolve(cli.client, ROLLOUT, rollout_id)
    rollout = cli.client.post_json(f"{ROLLOUTS}/{rollout_id}/{action}", {})
    show_item(summary(rollout), as_json=cli.as_json)


def summary(rollout: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in rollout.items() if k not in ("notChosen", "failed")}
    shown["notChosen"] = len(rollout.get("notChosen", []))
    shown["failed"] = [f"{f['siteName']} ({f['nsLcmOpOccId']})" for f in rollout.get("failed", [])]
    return shown


def follow(
    client: CentralClient, rollout_id: str, timeout: float, *, show_progress: bool = True
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    rollout: dict[str, Any] = client.get_json(f"{ROLLOUTS}/{rollout_id}")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("sites  {task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task(rollout["name"], total=rollout["total"], detail="")
        while True:
            sites = rollout["sites"]
            detail = f"wave {rollout['wave']}/{rollout['waves']}, {sites['FAILED']} failed"
            progress.update(task, completed=sites["DONE"] + sites["FAILED"], detail=detail)
            if rollout["state"] in ENDED:
                return rollout
            if time.monotonic() > deadline:
                raise CliError(
                    f"rollout {rollout_id} still {rollout['state']} after {timeout:.0f} s; "
                    f"follow it with: edgewise rollout watch {rollout_id}"
                )
            time.sleep(0.3)
            rollout = client.get_json(f"{ROLLOUTS}/{rollout_id}")
