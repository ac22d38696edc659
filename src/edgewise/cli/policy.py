"""`edgewise policy add|list|remove`: real-time policy rules of a site or of a tenant
(docs/realtime-policy.md); `list --site` shows the rules the site's document carries too."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from edgewise.cli.context import cli_context
from edgewise.cli.errors import CliError
from edgewise.cli.fields import parse_sets
from edgewise.cli.output import Column, show_item, show_items
from edgewise.cli.resolve import SITE, TENANT, resolve

app = typer.Typer(help="Real-time policy rules of a site or a tenant.", no_args_is_help=True)

SiteOption = Annotated[str | None, typer.Option("--site", help="the site's name or id")]
TenantOption = Annotated[str | None, typer.Option("--tenant", help="the tenant's name or id")]
RuleName = Annotated[str, typer.Argument(help="the rule's name")]


def _words(part: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in part.items() if k != "kind") or "-"


RULE_COLUMNS: list[Column] = [
    ("name", lambda r: r["name"]),
    ("scope", lambda r: r["scope"]),
    ("when", lambda r: r["spec"]["when"]["kind"]),
    ("", lambda r: _words(r["spec"]["when"])),
    ("then", lambda r: r["spec"]["then"]["kind"]),
    (" ", lambda r: _words(r["spec"]["then"])),
    ("hold s", lambda r: r["spec"].get("hold_s")),
]


def _owner(ctx: typer.Context, site: str | None, tenant: str | None) -> str:
    """`api/v1/sites/ID` or `api/v1/tenants/ID`: one of --site, --tenant."""
    if (site is None) == (tenant is None):
        raise CliError("give --site or --tenant (one of them)", exit_code=2)
    client = cli_context(ctx).client
    if site is not None:
        return f"api/v1/sites/{resolve(client, SITE, site)}"
    assert tenant is not None
    return f"api/v1/tenants/{resolve(client, TENANT, tenant)}"


@app.command("add")
def add_rule(
    ctx: typer.Context,
    name: RuleName,
    when: Annotated[
        list[str],
        typer.Option(
            "--when",
            help="kind=... and the condition's "
            "fields, e.g. --when kind=new_flows --when "
            "flows_above=50",
        ),
    ],
    then: Annotated[
        list[str],
        typer.Option(
            "--then",
            help="kind=... and the action's fields, e.g. --then kind=block --then for_s=60",
        ),
    ],
    site: SiteOption = None,
    tenant: TenantOption = None,
    hold_s: Annotated[
        int | None, typer.Option(help="seconds an action outlives its condition")
    ] = None,
) -> None:
    """Adds a rule (the sites it reaches get a new revision); a bad field is named."""
    owner = _owner(ctx, site, tenant)
    body: dict[str, Any] = {
        "name": name,
        "when": parse_sets(when, "--when"),
        "then": parse_sets(then, "--then"),
    }
    if hold_s is not None:
        body["hold_s"] = hold_s
    cli = cli_context(ctx)
    show_item(cli.client.post_json(f"{owner}/policy-rules", body), as_json=cli.as_json)


@app.command("list")
def list_rules(ctx: typer.Context, site: SiteOption = None, tenant: TenantOption = None) -> None:
    """The site's or the tenant's rules; for a site, also those its document carries and
    those left out there (and why)."""
    owner = _owner(ctx, site, tenant)
    cli = cli_context(ctx)
    rules = cli.client.get_json(f"{owner}/policy-rules")
    show_items(rules, RULE_COLUMNS, as_json=cli.as_json, title=f"Policy rules of {site or tenant}")
    if site is not None and not cli.as_json:
        found = cli.client.get_json(f"{owner}/policy")
        carried = ", ".join(r["name"] for r in found["rules"]) or "none"
        print(f"in the site's document: {carried}")
        for left in found["leftOut"]:
            print(f"left out: {left['scope']} rule {left['name']}: {left['reason']}")


@app.command("remove")
def remove_rule(
    ctx: typer.Context, name: RuleName, site: SiteOption = None, tenant: TenantOption = None
) -> None:
    """Removes a rule (the sites it reached get a new revision)."""
    owner = _owner(ctx, site, tenant)
    cli_context(ctx).client.request("DELETE", f"{owner}/policy-rules/{name}")
    print(f"removed policy rule {name} of {site or tenant}")
