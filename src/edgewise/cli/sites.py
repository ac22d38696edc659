"""`edgewise site` and `edgewise site-group`: add, list, show, update, delete. A site, a group or a
tenant is named by its name, its id or an unambiguous id prefix (`resolve`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from edgewise.cli.context import cli_context
from edgewise.cli.errors import CliError
from edgewise.cli.output import Column, show_item, show_items
from edgewise.cli.resolve import SITE, SITE_GROUP, TENANT, resolve, resolve_all
from edgewise.cli.things import delete_one, show_one
from edgewise.model.sites import SiteKind, label_problem

app = typer.Typer(
    help="Sites: on-premise boxes and cloud points of presence.", no_args_is_help=True
)
groups = typer.Typer(help="Site groups: named sets of sites of one tenant.", no_args_is_help=True)

SiteRef = Annotated[str, typer.Argument(help="the site's name, id or id prefix")]
GroupRef = Annotated[str, typer.Argument(help="the site group's name, id or id prefix")]
TenantOption = Annotated[
    str | None, typer.Option(help="owning tenant: name, id or id prefix (admins)")
]
SITE_COLUMNS: list[Column] = [
    ("id", lambda s: s["id"]),
    ("name", lambda s: s["name"]),
    ("kind", lambda s: s["kind"]),
    ("labels", lambda s: s["labels"]),
    ("vnf slots", lambda s: s["capacity"]["vnfSlots"]),
    ("tenant", lambda s: s["tenantId"]),
]
PRESENCE: Column = ("presence", lambda s: s.get("presence"))


def site_columns(sites: list[dict[str, Any]]) -> list[Column]:
    """The columns of a site list; `presence` when the central reports it."""
    return [*SITE_COLUMNS, PRESENCE] if any("presence" in s for s in sites) else SITE_COLUMNS


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
    tenant: TenantOption = None,
    description: str = "",
) -> None:
    """Adds a site; prints it and its one-time enrollment token."""
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
        body["tenantId"] = resolve(cli.client, TENANT, tenant)
    show_item(cli.client.post_json("api/v1/sites", body), as_json=cli.as_json)


@app.command("list")
def list_sites(
    ctx: typer.Context,
    kind: Annotated[SiteKind | None, typer.Option(help="only this kind")] = None,
    labels: Annotated[str | None, typer.Option(help="selector key=value[,key=value]")] = None,
    group: Annotated[
        str | None, typer.Option(help="only members of this site group (name or id)")
    ] = None,
) -> None:
    """Lists sites (all pages)."""
    cli = cli_context(ctx)
    params = {"kind": kind.value if kind else None, "labels": labels,
              "group": resolve(cli.client, SITE_GROUP, group) if group else None}  # fmt: skip
    found = list(cli.client.list_all("api/v1/sites", {k: v for k, v in params.items() if v}))
    show_items(found, site_columns(found), as_json=cli.as_json, title="Sites")


@app.command("show")
def show_site(ctx: typer.Context, site: SiteRef) -> None:
    """Shows one site (its presence: online, offline or never-enrolled)."""
    show_one(ctx, SITE, site)


@app.command("update")
def update_site(
    ctx: typer.Context,
    site: SiteRef,
    label: Annotated[list[str] | None, typer.Option(help="key=value to set, repeatable")] = None,
    unlabel: Annotated[list[str] | None, typer.Option(help="a label key to remove")] = None,
    compute_nodes: Annotated[int | None, typer.Option(min=1, help="cloud sites: nodes")] = None,
    slots_per_node: Annotated[int | None, typer.Option(min=1, help="VNF slots per node")] = None,
    description: Annotated[str | None, typer.Option(help="a new description")] = None,
) -> None:
    """Changes a site's labels, capacity or description (other labels are kept)."""
    cli = cli_context(ctx)
    body: dict[str, Any] = {"computeNodes": compute_nodes, "slotsPerNode": slots_per_node,
                            "description": description}  # fmt: skip
    changes = {k: v for k, v in body.items() if v is not None}
    if not (changes or label or unlabel):
        raise CliError(
            "nothing to update: give --label, --unlabel, --compute-nodes, --slots-per-node "
            "or --description",
            exit_code=2,
        )
    setting = parse_labels(label or [])
    site_id = resolve(cli.client, SITE, site)
    if setting or unlabel:
        labels = dict(cli.client.get_json(f"api/v1/sites/{site_id}")["labels"])
        for key in unlabel or []:
            if labels.pop(key, None) is None:
                raise CliError(f"--unlabel {key!r}: the site has no such label", exit_code=2)
        changes["labels"] = labels | setting
    updated = cli.client.request("PATCH", f"api/v1/sites/{site_id}", json=changes).json()
    show_item(updated, as_json=cli.as_json)


@app.command("token")
def new_token(ctx: typer.Context, site: SiteRef) -> None:
    """Issues a new one-time enrollment token for the site (the old one stops working)."""
    cli = cli_context(ctx)
    site_id = resolve(cli.client, SITE, site)
    show_item(
        cli.client.post_json(f"api/v1/sites/{site_id}/enrollment-token", {}), as_json=cli.as_json
    )


@app.command("revoke")
def revoke_site(ctx: typer.Context, site: SiteRef) -> None:
    """Revokes the site's certificate at once; it needs a new token to come back."""
    cli = cli_context(ctx)
    site_id = resolve(cli.client, SITE, site)
    show_item(cli.client.post_json(f"api/v1/sites/{site_id}/revoke", {}), as_json=cli.as_json)


@app.command("status")
def site_status(
    ctx: typer.Context,
    site: Annotated[
        str | None, typer.Argument(help="one site (name, id or id prefix); default: the fleet")
    ] = None,
) -> None:
    """Shows a site's desired and applied revisions, or how many sites are in sync."""
    cli = cli_context(ctx)
    path = (
        f"api/v1/sites/{resolve(cli.client, SITE, site)}/status" if site else "api/v1/site-status"
    )
    show_item(cli.client.get_json(path), as_json=cli.as_json)


@app.command("delete")
def delete_site(ctx: typer.Context, site: SiteRef) -> None:
    """Deletes a site; refused while NS instances run there (terminate them, or move them off
    the site, first: the central names them)."""
    delete_one(ctx, SITE, site)


@groups.command("add")
def add_group(
    ctx: typer.Context,
    name: str,
    site: Annotated[
        list[str] | None, typer.Option(help="member site: name, id or id prefix; repeatable")
    ] = None,
    tenant: TenantOption = None,
    description: str = "",
) -> None:
    """Creates a site group."""
    cli = cli_context(ctx)
    body: dict[str, Any] = {"name": name, "siteIds": resolve_all(cli.client, SITE, site),
                            "description": description}  # fmt: skip
    if tenant:
        body["tenantId"] = resolve(cli.client, TENANT, tenant)
    show_item(cli.client.post_json("api/v1/site-groups", body), as_json=cli.as_json)


@groups.command("show")
def show_group(ctx: typer.Context, group: GroupRef) -> None:
    """Shows one site group and its members."""
    show_one(ctx, SITE_GROUP, group)


@groups.command("delete")
def delete_group(ctx: typer.Context, group: GroupRef) -> None:
    """Deletes a site group (its sites stay)."""
    delete_one(ctx, SITE_GROUP, group)


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
