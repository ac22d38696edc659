"""`edgewise tenant`, `edgewise user` and `edgewise token`. Each is named by its name, its id or an
unambiguous id prefix (`resolve`)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from edgewise.cli.context import cli_context
from edgewise.cli.output import show_item, show_items
from edgewise.cli.resolve import TENANT, TOKEN, USER, resolve
from edgewise.cli.things import delete_one, show_one

tenants = typer.Typer(help="Tenants (customers).", no_args_is_help=True)
users = typer.Typer(help="Users of the API: admins and tenant users.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens.", no_args_is_help=True)

TenantRef = Annotated[str, typer.Argument(help="the tenant's name, id or id prefix")]
UserRef = Annotated[str, typer.Argument(help="the user's name, id or id prefix")]


@tenants.command("add")
def add_tenant(ctx: typer.Context, name: str, description: str = "") -> None:
    """Creates a tenant (admins)."""
    cli = cli_context(ctx)
    show_item(
        cli.client.post_json("api/v1/tenants", {"name": name, "description": description}),
        as_json=cli.as_json,
    )


@tenants.command("list")
def list_tenants(ctx: typer.Context) -> None:
    """Lists tenants."""
    cli = cli_context(ctx)
    show_items(
        cli.client.list_all("api/v1/tenants"),
        [
            ("id", lambda t: t["id"]),
            ("name", lambda t: t["name"]),
            ("description", lambda t: t["description"]),
        ],
        as_json=cli.as_json,
        title="Tenants",
    )


@tenants.command("show")
def show_tenant(ctx: typer.Context, tenant: TenantRef) -> None:
    """Shows one tenant."""
    show_one(ctx, TENANT, tenant)


@tenants.command("delete")
def delete_tenant(ctx: typer.Context, tenant: TenantRef) -> None:
    """Deletes a tenant that owns nothing any more."""
    delete_one(ctx, TENANT, tenant)


@users.command("add")
def add_user(
    ctx: typer.Context,
    name: str,
    tenant: Annotated[
        str | None, typer.Option(help="the tenant (name, id or id prefix) of a tenant user")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="an operator (admin) instead")] = False,
    tenant_admin: Annotated[
        bool, typer.Option("--tenant-admin", help="the tenant's admin: manages its users")
    ] = False,
) -> None:
    """Creates a user: a tenant user, unless --tenant-admin or --admin."""
    cli = cli_context(ctx)
    role = "admin" if admin else "tenant-admin" if tenant_admin else "tenant"
    body: dict[str, Any] = {"name": name, "role": role}
    if tenant:
        body["tenantId"] = resolve(cli.client, TENANT, tenant)
    show_item(cli.client.post_json("api/v1/users", body), as_json=cli.as_json)


@users.command("list")
def list_users(ctx: typer.Context) -> None:
    """Lists users."""
    cli = cli_context(ctx)
    show_items(
        cli.client.list_all("api/v1/users"),
        [
            ("id", lambda u: u["id"]),
            ("name", lambda u: u["name"]),
            ("role", lambda u: u["role"]),
            ("tenant", lambda u: u["tenantId"]),
        ],
        as_json=cli.as_json,
        title="Users",
    )


@users.command("show")
def show_user(ctx: typer.Context, user: UserRef) -> None:
    """Shows one user."""
    show_one(ctx, USER, user)


@users.command("delete")
def delete_user(ctx: typer.Context, user: UserRef) -> None:
    """Deletes a user; its tokens stop working at once."""
    delete_one(ctx, USER, user)


@users.command("password")
def set_password(
    ctx: typer.Context,
    user: UserRef,
    stdin: Annotated[
        bool, typer.Option("--stdin", help="read the password from standard input (one line)")
    ] = False,
) -> None:
    """Sets the password USER signs in to the web portals with (asked twice, not echoed)."""
    cli = cli_context(ctx)
    if stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    user_id = resolve(cli.client, USER, user)
    cli.client.request("PUT", f"api/v1/users/{user_id}/password", json={"password": password})
    typer.echo(f"password set for {user}; its portal sessions ended")


@tokens.command("create")
def create_token(
    ctx: typer.Context,
    name: str,
    user: Annotated[
        str | None, typer.Option(help="the user: name, id or id prefix (default: yourself)")
    ] = None,
    days: Annotated[
        int | None, typer.Option(min=1, help="lifetime in days (default: no expiry)")
    ] = None,
) -> None:
    """Creates an API token; it is shown once."""
    cli = cli_context(ctx)
    body: dict[str, Any] = {"name": name}
    if user:
        body["userId"] = resolve(cli.client, USER, user)
    if days:
        body["lifetimeDays"] = days
    show_item(cli.client.post_json("api/v1/tokens", body), as_json=cli.as_json)


@tokens.command("list")
def list_tokens(ctx: typer.Context) -> None:
    """Lists tokens (never their secrets)."""
    cli = cli_context(ctx)
    show_items(
        cli.client.list_all("api/v1/tokens"),
        [
            ("id", lambda t: t["id"]),
            ("name", lambda t: t["name"]),
            ("prefix", lambda t: t["prefix"]),
            ("user", lambda t: t["userId"]),
            ("expires", lambda t: t["expiresAt"]),
            ("revoked", lambda t: t["revokedAt"]),
        ],
        as_json=cli.as_json,
        title="Tokens",
    )


@tokens.command("revoke")
def revoke_token(
    ctx: typer.Context,
    token: Annotated[str, typer.Argument(help="the token's name, id or id prefix")],
) -> None:
    """Revokes a token at once."""
    cli = cli_context(ctx)
    token_id = resolve(cli.client, TOKEN, token)
    show_item(cli.client.request("DELETE", f"api/v1/tokens/{token_id}").json(), as_json=cli.as_json)
