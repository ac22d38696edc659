"""`edgewise overlay create|list|show|join|leave|delete`: tenants' encrypted overlays (operators
create and change them; a tenant lists and shows its own)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from edgewise.cli.context import cli_context
from edgewise.cli.errors import CliError
from edgewise.cli.output import Column, named, show_item, show_items
from edgewise.cli.resolve import SITE, TENANT, Kind, resolve, resolve_all

app = typer.Typer(help="Encrypted site-to-site overlays of a tenant.", no_args_is_help=True)
OVERLAY = Kind("overlay", ("api/v1/overlays",))
OverlayRef = Annotated[str, typer.Argument(help="the overlay's name, id or id prefix")]
Sites = Annotated[list[str] | None, typer.Option("--site", help="a member site; repeatable")]
MEMBERS: list[Column] = [
    ("site", lambda m: m["siteName"] or m["siteId"]),
    ("role", lambda m: m["role"]),
    ("address", lambda m: m["address"]),
    ("links", lambda m: ", ".join(m["links"])),
    ("key", lambda m: (m["publicKey"] or "")[:12]),
    ("state", lambda m: m["state"]),
]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the overlay's name")],
    tenant: Annotated[str, typer.Option(help="its tenant: name, id or id prefix")],
    prefix: Annotated[str, typer.Option(help="inner prefix, e.g. 10.200.0.0/16")],
    topology: Annotated[str, typer.Option(help="hub-and-spoke or full-mesh")] = "hub-and-spoke",
    hub: Annotated[list[str] | None, typer.Option(help="a hub site; repeatable")] = None,
    site: Sites = None,
    selector: Annotated[str | None, typer.Option(help="member sites by labels k=v[,k=v]")] = None,
    base_port: Annotated[int, typer.Option(help="a member's first UDP port")] = 51820,
) -> None:
    """Creates a tenant's overlay with its hubs and members."""
    cli = cli_context(ctx)
    body: dict[str, Any] = {
        "tenantId": resolve(cli.client, TENANT, tenant),
        "name": name,
        "topology": topology,
        "prefix": prefix,
        "hubs": resolve_all(cli.client, SITE, hub),
        "sites": resolve_all(cli.client, SITE, site),
        "basePort": base_port,
    }
    if selector is not None:
        body["selector"] = selector
    _show(cli.client.post_json("api/v1/overlays", body), as_json=cli.as_json)


@app.command("list")
def list_overlays(ctx: typer.Context) -> None:
    """Lists the overlays the caller sees."""
    cli = cli_context(ctx)
    columns: list[Column] = [
        ("id", lambda o: o["id"]),
        ("name", lambda o: o["name"]),
        ("tenant", lambda o: o["tenantId"]),
        ("topology", lambda o: o["topology"]),
        ("prefix", lambda o: o["prefix"]),
        ("members", lambda o: len(o["members"])),
        ("ready", lambda o: sum(m["state"] == "ready" for m in o["members"])),
    ]
    show_items(
        cli.client.get_json("api/v1/overlays"), columns, as_json=cli.as_json, title="Overlays"
    )


@app.command("show")
def show(ctx: typer.Context, overlay: OverlayRef) -> None:
    """Shows an overlay: its topology and each member's role, address, links, key state."""
    cli = cli_context(ctx)
    found = resolve(cli.client, OVERLAY, overlay)
    _show(cli.client.get_json(f"api/v1/overlays/{found}"), as_json=cli.as_json)


@app.command("join")
def join(
    ctx: typer.Context,
    overlay: OverlayRef,
    site: Sites = None,
    link: Annotated[list[str] | None, typer.Option(help="ride only this link; repeatable")] = None,
) -> None:
    """Adds sites to an overlay (each gets the next free inner address)."""
    cli = cli_context(ctx)
    if not site:
        raise CliError("give the sites to add with --site", exit_code=2)
    found = resolve(cli.client, OVERLAY, overlay)
    body: dict[str, Any] = {"siteIds": resolve_all(cli.client, SITE, site)}
    if link:
        body["links"] = link
    _show(cli.client.post_json(f"api/v1/overlays/{found}/members", body), as_json=cli.as_json)


@app.command("leave")
def leave(
    ctx: typer.Context,
    overlay: OverlayRef,
    site: Annotated[str, typer.Argument(help="the member site: name, id or id prefix")],
) -> None:
    """Takes a site out of an overlay (its peers drop it)."""
    cli = cli_context(ctx)
    found = resolve(cli.client, OVERLAY, overlay)
    site_id = resolve(cli.client, SITE, site)
    left = cli.client.request("DELETE", f"api/v1/overlays/{found}/members/{site_id}")
    _show(left.json(), as_json=cli.as_json)


@app.command("delete")
def delete(ctx: typer.Context, overlay: OverlayRef) -> None:
    """Deletes an overlay: its members' entries leave their documents."""
    cli = cli_context(ctx)
    found = resolve(cli.client, OVERLAY, overlay)
    cli.client.request("DELETE", f"api/v1/overlays/{found}")
    print(f"deleted overlay {named(overlay, found)}")


def _show(overlay: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        show_item(overlay, as_json=True)
        return
    show_item({k: v for k, v in overlay.items() if k != "members"}, as_json=False)
    show_items(overlay["members"], MEMBERS, as_json=False, title="Members")
