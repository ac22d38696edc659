"""`edgewise site` and `edgewise site-group`: add, list, show, delete."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from edgewise.cli.context import cli_context
from edgewise.cli.errors import CliError
from edgewise.cli.output import show_item, show_items
from edgewise.model.sites import SiteKind, label_problem

app = typer.Typer(
    help="Sites: on-premise boxes and cloud points of presence.", no_args_is_help=True
)
groups = typer.Typer(help="Site groups: named sets of sites of one tenant.", no_args_is_help=True)

SITE_COLUMNS = [
    ("id", lambda s: s["id"]),
    ("name", lambda s: s["name"]),
    ("kind", lambda s: s["kind"]),
    ("labels", lambda s: s["labels"]),
    ("vnf slots", lambda s: s["capacity"]["vnfSlots"]),
    ("tenant", lambda s: s["tenantId"]),
]


def parse_labels(values: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep:
            raise CliError(f"--label {value!r}: write it as key=value", exit_code=2)
        problem = label_problem(key, text)
        if problem:
            raise CliError(f"--label {value!r}: {problem}", exit_code=2)
        labels[key] = text
    return labels


@app.command("add")
def add_site(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="site name, unique in its tenant")],
    kind: Annotated[SiteKind, typer.Option(help="on-premise or cloud")] = SiteKind.ON_PREMISE,
    label: Annotated[list[str] | None, typer.Option(help="key=value, repeatable")] = None,
    compute_nodes: Annotated[int, typer.Option(min=1, help="cloud sites: compute nodes")] = 1,
    slots_per_node: Annotated[
        int | None, typer.Option(min=1, help="VNF slots per node (default 2 / 20)")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="owning tenant id (admins)")] = None,
    description: str = "",
) -> None:
    """Adds a site."""
    cli = cli_context(ctx)
    body: dict[str, Any] = {
        "name": name,
        "kind": kind.value,
        "labels": parse_labels(label or []),
        "computeNodes": compute_nodes,
        "description": description,
    }
    if slots_per_node:
        body["slotsPerNode"] = slots_per_node
    if tenant:
        body["tenantId"] = tenant
    show_item(cli.client.post_json("api/v1/sites", body), as_json=cli.as_json)


@app.command("list")
def list_sites(
    ctx: typer.Context,
    kind: Annotated[SiteKind | None, typer.Option(help="only this kind")] = None,
    labels: Annotated[str | None, typer.Option(help="selector key=value[,key=value]")] = None,
    group: Annotated[str | None, typer.Option(help="only members of this site group")] = None,
) -> None:
    """Lists sites (all pages)."""
    cli = cli_context(ctx)
    params = {
        k: v
        for k, v in {"kind": kind.value if kind else None, "labels": labels, "group": group}.items()
        if v
    }
    show_items(
        cli.client.list_all("api/v1/sites", params),
        SITE_COLUMNS,
        as_json=cli.as_json,
        title="Sites",
    )


@app.command("show")
def show_site(ctx: typer.Context, site_id: str) -> None:
    """Shows one site."""
    cli = cli_context(ctx)
    show_item(cli.client.get_json(f"api/v1/sites/{site_id}"), as_json=cli.as_json)


@app.command("token")
def new_token(ctx: typer.Context, site_id: str) -> None:
    """Issues a new one-time enrollment token for the site (the old one stops working)."""
    cli = cli_context(ctx)
    show_item(
        cli.client.post_json(f"api/v1/sites/{site_id}/enrollment-token", {}), as_json=cli.as_json
    )


@app.command("revoke")
def revoke_site(ctx: typer.Context, site_id: str) -> None:
    """Revokes the site's certificate at once; it needs a new token to come back."""
    cli = cli_context(ctx)
    show_item(cli.client.post_json(f"api/v1/sites/{site_id}/revoke", {}), as_json=cli.as_json)


@app.command("status")
def site_status(
    ctx: typer.Context,
    site_id: Annotated[
        str | None, typer.Argument(help="one site; default: the fleet summary")
    ] = None,
) -> None:
    """Shows a site's desired and applied revisions, or how many sites are in sync."""
    cli = cli_context(ctx)
    path = f"api/v1/sites/{site_id}/status" if site_id else "api/v1/site-status"
    show_item(cli.client.get_json(path), as_json=cli.as_json)


@app.command("delete")
def delete_site(ctx: typer.Context, site_id: str) -> None:
    """Deletes a site."""
    cli = cli_context(ctx)
    cli.client.request("DELETE", f"api/v1/sites/{site_id}")
    print(f"deleted site {site_id}")


@groups.command("add")
def add_group(
    ctx: typer.Context,
    name: str,
    site: Annotated[list[str] | None, typer.Option(help="member site id, repeatable")] = None,
    tenant: Annotated[str | None, typer.Option(help="owning tenant id (admins)")] = None,
) -> None:
    """Creates a site group."""
    cli = cli_context(ctx)
    body: dict[str, Any] = {"name": name, "siteIds": site or []}
    if tenant:
        body["tenantId"] = tenant
    show_item(cli.client.post_json("api/v1/site-groups", body), as_json=cli.as_json)


@groups.command("list")
def list_groups(ctx: typer.Context) -> None:
    """Lists site groups."""
    cli = cli_context(ctx)
    show_items(
        cli.client.list_all("api/v1/site-groups"),
        [
            ("id", lambda g: g["id"]),
            ("name", lambda g: g["name"]),
            ("sites", lambda g: len(g["siteIds"])),
            ("tenant", lambda g: g["tenantId"]),
        ],
        as_json=cli.as_json,
        title="Site groups",
    )
