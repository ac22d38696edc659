"""`edgewise sla`, `edgewise app-class` and `edgewise steering`: the operator's SLA profiles and
application classes, steering policies (fleet, site, or a tenant's own preference), tenants'
bounds, and the steering a site gets. Fields are the desired-state contract's (`--set`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from edgewise.cli.context import cli_context
from edgewise.cli.errors import CliError
from edgewise.cli.fields import parse_sets
from edgewise.cli.output import Column, show_item, show_items
from edgewise.cli.resolve import SITE, TENANT, Kind, resolve

sla = typer.Typer(
    help="SLA profiles: what a class needs of a link (operators).", no_args_is_help=True
)
app_class = typer.Typer(
    help="Application classes: what traffic a policy steers (operators).", no_args_is_help=True
)
steering = typer.Typer(
    help="Steering policies: a class's ordered links, fleet-wide, per site, "
    "or a tenant's own within its bounds.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="its name")]
Sets = Annotated[list[str] | None, typer.Option("--set", help="field=value (JSON value)")]
NAMED: list[Column] = [
    ("name", lambda item: item["name"]),
    (
        "fields",
        lambda item: {k: v for k, v in item["spec"].items() if k != "name" and v not in ([], None)},
    ),
]


def _named_commands(group: typer.Typer, path: str, noun: str) -> None:
    @group.command("list")
    def list_items(ctx: typer.Context) -> None:
        """Lists them."""
        cli = cli_context(ctx)
        show_items(cli.client.get_json(path), NAMED, as_json=cli.as_json, title=f"{noun}s")

    @group.command("add")
    def add_item(ctx: typer.Context, name: Name, sets: Sets = None) -> None:
        """Adds one (its fields with --set, e.g. --set max_latency_ms=150)."""
        cli = cli_context(ctx)
        show_item(
            cli.client.post_json(path, {"name": name} | parse_sets(sets)), as_json=cli.as_json
        )

    @group.command("set")
    def set_item(ctx: typer.Context, name: Name, sets: Sets = None) -> None:
        """Changes fields (--set field=null removes one); the sites carrying it get a new
        revision."""
        cli = cli_context(ctx)
        patch = parse_sets(sets)
        if not patch:
            raise CliError("nothing to change: give --set field=value", exit_code=2)
        show_item(
            cli.client.request("PATCH", f"{path}/{name}", json=patch).json(), as_json=cli.as_json
        )

    @group.command("remove")
    def remove_item(ctx: typer.Context, name: Name) -> None:
        """Removes one; refused while a policy (or a tenant's bound) uses it."""
        cli = cli_context(ctx)
        cli.client.request("DELETE", f"{path}/{name}")
        print(f"removed {noun} {name}")


_named_commands(sla, "api/v1/sla-profiles", "SLA profile")
_named_commands(app_class, "api/v1/app-classes", "application class")
APPLICATION_COLUMNS: list[Column] = [
    ("name", lambda item: item["name"]),
    ("category", lambda item: item["category"]),
    ("description", lambda item: item["description"]),
]


@app_class.command("applications")
def list_applications(ctx: typer.Context) -> None:
    """The applications deep packet inspection names: what a class's applications may list."""
    cli = cli_context(ctx)
    show_items(cli.client.get_json("api/v1/applications"), APPLICATION_COLUMNS,
               as_json=cli.as_json, title="Applications (layer 7)")  # fmt: skip


POLICIES = "api/v1/steering-policies"
POLICY = Kind("steering policy", (POLICIES,), names=())
POLICY_COLUMNS: list[Column] = [
    ("id", lambda p: p["id"]),
    ("scope", lambda p: p["scope"]),
    ("of", lambda p: p.get("siteId") or p.get("tenantId") or ""),
    ("class", lambda p: p["class"]),
    ("links", lambda p: ", ".join(p["links"])),
    ("sla", lambda p: p.get("sla") or ""),
    ("spread", lambda p: "yes" if p["spread"] else ""),
]
Links = Annotated[str, typer.Option(help="link names in order of preference: mpls,inet")]


def _links(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


@steering.command("list")
def list_policies(ctx: typer.Context) -> None:
    """Lists the policies the caller sees (a tenant: the fleet's, its sites', its own)."""
    cli = cli_context(ctx)
    show_items(
        cli.client.get_json(POLICIES),
        POLICY_COLUMNS,
        as_json=cli.as_json,
        title="Steering policies",
    )


@steering.command("add")
def add_policy(
    ctx: typer.Context,
    class_name: Annotated[str, typer.Argument(metavar="CLASS", help="the application class")],
    links: Links,
    site: Annotated[str | None, typer.Option(help="a site's policy (operators)")] = None,
    tenant: Annotated[
        str | None, typer.Option(help="a tenant's preference (default for a tenant user: its own)")
    ] = None,
    fleet: Annotated[bool, typer.Option(help="a fleet-wide policy (operators)")] = False,
    sla_name: Annotated[str | None, typer.Option("--sla", help="an SLA profile")] = None,
    spread: Annotated[bool, typer.Option(help="hash flows over the compliant links")] = False,
) -> None:
    """Adds a policy: --fleet, --site SITE, or a tenant's preference (the default)."""
    cli = cli_context(ctx)
    if fleet and site:
        raise CliError("give --fleet or --site, not both", exit_code=2)
    body: dict[str, Any] = {
        "class": class_name,
        "links": _links(links),
        "spread": spread,
        "scope": "fleet" if fleet else "site" if site else "tenant",
    }
    if site:
        body["siteId"] = resolve(cli.client, SITE, site)
    if tenant:
        body["tenantId"] = resolve(cli.client, TENANT, tenant)
    if sla_name:
        body["sla"] = sla_name
    show_item(cli.client.post_json(POLICIES, body), as_json=cli.as_json)


@steering.command("set")
def set_policy(
    ctx: typer.Context,
    policy: Annotated[str, typer.Argument(help="the policy's id or id prefix")],
    links: Annotated[str | None, typer.Option(help="new links in order: mpls,inet")] = None,
    sla_name: Annotated[
        str | None, typer.Option("--sla", help="an SLA profile; none: no profile")
    ] = None,
    spread: Annotated[bool | None, typer.Option("--spread/--no-spread")] = None,
) -> None:
    """Changes a policy's links, SLA profile or spread."""
    cli = cli_context(ctx)
    patch: dict[str, Any] = {}
    if links is not None:
        patch["links"] = _links(links)
    if sla_name is not None:
        patch["sla"] = None if sla_name == "none" else sla_name
    if spread is not None:
        patch["spread"] = spread
    if not patch:
        raise CliError("nothing to change: give --links, --sla or --spread", exit_code=2)
    found = resolve(cli.client, POLICY, policy)
    show_item(
        cli.client.request("PATCH", f"{POLICIES}/{found}", json=patch).json(), as_json=cli.as_json
    )


@steering.command("remove")
def remove_policy(
    ctx: typer.Context,
    policy: Annotated[str, typer.Argument(help="the policy's id or id prefix")],
) -> None:
    """Removes a policy."""
    cli = cli_context(ctx)
    cli.client.request("DELETE", f"{POLICIES}/{resolve(cli.client, POLICY, policy)}")
    print(f"removed steering policy {policy}")


@steering.command("show")
def show_site(
    ctx: typer.Context, site: Annotated[str, typer.Argument(help="a site: name, id, prefix")]
) -> None:
    """The steering a site gets, and the policies left out there and why."""
    cli = cli_context(ctx)
    site_id = resolve(cli.client, SITE, site)
    show_item(cli.client.get_json(f"api/v1/sites/{site_id}/steering"), as_json=cli.as_json)


@steering.command("bounds")
def bounds(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Argument(help="the tenant: name, id or id prefix")],
    bound: Annotated[
        list[str] | None,
        typer.Option(
            help="CLASS=LINK,LINK[:sla] (:sla lets it change the SLA); replaces all; repeatable"
        ),
    ] = None,
    clear: Annotated[bool, typer.Option(help="remove every bound")] = False,
) -> None:
    """Shows a tenant's bounds, or (operators) replaces them with --bound ... / --clear."""
    cli = cli_context(ctx)
    path = f"api/v1/tenants/{resolve(cli.client, TENANT, tenant)}/steering-bounds"
    if not bound and not clear:
        found = cli.client.get_json(path)
    else:
        body = [_bound(text) for text in bound or []]
        found = cli.client.request("PUT", path, json=body).json()
    columns: list[Column] = [
        ("class", lambda b: b["class"]),
        ("links", lambda b: ", ".join(b["links"])),
        ("may change sla", lambda b: "yes" if b["mayChangeSla"] else "no"),
    ]
    show_items(found, columns, as_json=cli.as_json, title=f"Steering bounds of {tenant}")


def _bound(text: str) -> dict[str, Any]:
    class_name, sep, rest = text.partition("=")
    if not sep or not class_name:
        raise CliError(f"--bound {text!r}: write it as CLASS=LINK,LINK[:sla]", exit_code=2)
    links, _, flag = rest.partition(":")
    if flag not in ("", "sla"):
        raise CliError(f"--bound {text!r}: only ':sla' may follow the links", exit_code=2)
    return {"class": class_name, "links": _links(links), "mayChangeSla": flag == "sla"}
