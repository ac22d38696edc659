"""`edgewise site link add|list|set|remove` and `edgewise site links SITE`: a site's WAN links
(operators set them; a tenant lists its sites'), with what each site last reported, or one
link's history (`--history LINK`, cli.history)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from edgewise.cli.context import cli_context
from edgewise.cli.fields import given, parse_sets
from edgewise.cli.history import show_history
from edgewise.cli.output import Column, show_item, show_items
from edgewise.cli.resolve import SITE, resolve

app = typer.Typer(help="A site's WAN links (operators).", no_args_is_help=True)

SiteRef = Annotated[str, typer.Argument(help="the site's name, id or id prefix")]
LinkName = Annotated[str, typer.Argument(help="the link's name at the site")]
Sets = Annotated[
    list[str] | None,
    typer.Option("--set", help="field=value of the link (JSON value; probe.hold_s=5)"),
]


def _reported(key: str) -> Any:
    return lambda link: (link.get("reported") or {}).get(key)


LINK_COLUMNS: list[Column] = [
    ("name", lambda link: link["name"]),
    ("kind", lambda link: link["desired"]["kind"]),
    ("interface", lambda link: link["desired"]["interface"]),
    (
        "address",
        lambda link: (
            link["desired"].get("address")
            or _reported("address")(link)
            or ("dhcp" if link["desired"].get("dhcp") else "")
        ),
    ),
    ("state", lambda link: _reported("state")(link) or "not reported"),
    ("latency ms", _reported("latencyMs")),
    ("loss %", _reported("lossPercent")),
    ("jitter ms", _reported("jitterMs")),
    ("since", _reported("since")),
    (
        "classes",
        lambda link: ", ".join(
            f"{name} {c.get('packets', 0)}p/{c.get('bytes', 0)}B"
            for name, c in sorted(((link.get("reported") or {}).get("classes") or {}).items())
        ),
    ),
]


@app.command("list")
def list_links(
    ctx: typer.Context,
    site: SiteRef,
    history: Annotated[
        str | None, typer.Option(help="show this link's history instead (a row per step)")
    ] = None,
    since: Annotated[str, typer.Option(help="with --history: how far back (90m, 36h, 7d)")] = "1d",
    step: Annotated[
        str | None, typer.Option(help="with --history: per row (5m, 1h, 1d; default: by range)")
    ] = None,
) -> None:
    """The site's links: as desired, and their last reported state, figures and counters; or,
    with --history, one link's figures and state over time."""
    cli = cli_context(ctx)
    site_id = resolve(cli.client, SITE, site)
    if history is not None:
        show_history(cli, site_id, site, history, since_text=since, step=step)
        return
    found = cli.client.get_json(f"api/v1/sites/{site_id}/links")
    show_items(found, LINK_COLUMNS, as_json=cli.as_json, title=f"Links of {site}")


@app.command("add")
def add_link(
    ctx: typer.Context,
    site: SiteRef,
    name: LinkName,
    kind: Annotated[str, typer.Option(help="mpls, internet, lte or other")],
    interface: Annotated[str, typer.Option(help="its interface in the site's WAN namespace")],
    address: Annotated[str | None, typer.Option(help="its address, e.g. 192.0.2.2/30")] = None,
    gateway: Annotated[str | None, typer.Option(help="its next hop")] = None,
    dhcp: Annotated[bool, typer.Option(help="learns address and next hop by DHCP")] = False,
    sets: Sets = None,
) -> None:
    """Adds a WAN link to the site (a new revision of its desired state)."""
    cli = cli_context(ctx)
    site_id = resolve(cli.client, SITE, site)
    body = (
        {"name": name, "kind": kind, "interface": interface}
        | given(address=address, gateway=gateway, dhcp=dhcp or None)
        | parse_sets(sets)
    )
    show_item(cli.client.post_json(f"api/v1/sites/{site_id}/links", body), as_json=cli.as_json)


@app.command("set")
def set_link(
    ctx: typer.Context,
    site: SiteRef,
    name: LinkName,
    address: Annotated[str | None, typer.Option(help="its address")] = None,
    gateway: Annotated[str | None, typer.Option(help="its next hop")] = None,
    sets: Sets = None,
) -> None:
    """Changes fields of a link (`--set field=null` removes one)."""
    cli = cli_context(ctx)
    site_id = resolve(cli.client, SITE, site)
    patch = given(address=address, gateway=gateway) | parse_sets(sets)
    if not patch:
        raise typer.BadParameter("nothing to change: give --address, --gateway or --set")
    updated = cli.client.request("PATCH", f"api/v1/sites/{site_id}/links/{name}", json=patch)
    show_item(updated.json(), as_json=cli.as_json)


@app.command("remove")
def remove_link(ctx: typer.Context, site: SiteRef, name: LinkName) -> None:
    """Removes a link; refused while the site's own policies or an overlay name it."""
    cli = cli_context(ctx)
    site_id = resolve(cli.client, SITE, site)
    cli.client.request("DELETE", f"api/v1/sites/{site_id}/links/{name}")
    print(f"removed link {name} of site {site}")
