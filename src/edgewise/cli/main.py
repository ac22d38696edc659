"""The `edgewise` command line: global options, the command tree, one-line errors."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from edgewise.central.config import CentralSettings
from edgewise.cli import (
    alarms,
    catalog,
    lab,
    links,
    ns,
    operations,
    overlays,
    pm,
    policy,
    rollouts,
    site_controller,
    sites,
    steering,
    tenants,
)
from edgewise.cli.client import DEFAULT_CENTRAL
from edgewise.cli.context import CliContext
from edgewise.cli.errors import CliError
from edgewise.cli.output import error_line
from edgewise.lab.errors import LabError

app = typer.Typer(
    help="Edgewise: orchestrate network services across edge sites.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(catalog.app, name="catalog")
app.add_typer(sites.app, name="site")
sites.app.add_typer(links.app, name="link")
sites.app.command("links")(links.list_links)
app.add_typer(steering.sla, name="sla")
app.add_typer(steering.app_class, name="app-class")
app.add_typer(steering.steering, name="steering")
app.add_typer(overlays.app, name="overlay")
app.add_typer(policy.app, name="policy")
app.add_typer(sites.groups, name="site-group")
app.add_typer(ns.app, name="ns")
app.add_typer(operations.app, name="operation")
app.add_typer(operations.app, name="op", hidden=True)  # short for `operation`
app.add_typer(rollouts.app, name="rollout")
app.add_typer(alarms.app, name="alarm")
app.add_typer(pm.app, name="pm")
app.add_typer(tenants.tenants, name="tenant")
app.add_typer(tenants.users, name="user")
app.add_typer(tenants.tokens, name="token")
app.add_typer(site_controller.app, name="site-controller")
app.command("demo")(lab.demo)
app.command("simulate")(lab.simulate)


@app.callback()
def root(
    ctx: typer.Context,
    central: Annotated[
        str, typer.Option(envvar="EDGEWISE_CENTRAL", help="URL of the central manager")
    ] = DEFAULT_CENTRAL,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="EDGEWISE_TOKEN",
            help="API token (default: the admin token of a local central's data directory)",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=show_version, help="print the version and exit"
        ),
    ] = False,
) -> None:
    del version  # handled by its eager callback
    ctx.obj = CliContext(central=central.rstrip("/") + "/", token=token, as_json=as_json)


def show_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        print(f"edgewise {version('edgewise')}")
        raise typer.Exit


@app.command()
def server(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8800,
    data_dir: Annotated[
        Path | None,
        typer.Option(envvar="EDGEWISE_DATA_DIR", help="state directory (default var/central)"),
    ] = None,
    southbound_port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="port of the sites' mTLS channel (default 8443; 0: any free)"
        ),
    ] = None,
) -> None:
    """Runs the central manager: the API and the sites' channel (SQLite unless
    EDGEWISE_DATABASE_URL is set). The CLI on this machine, aimed at this port, finds the admin
    token in the data directory."""
    import dataclasses

    from edgewise.central.serve import run
    from edgewise.cli.local import recorded

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = CentralSettings.from_environment(data_dir)
    except ValueError as exc:  # a setting in the environment that cannot be used
        raise CliError(str(exc), exit_code=2) from exc
    if southbound_port is not None:
        settings = dataclasses.replace(settings, southbound_port=southbound_port)
    with recorded(port, settings.data_dir):
        run(settings, host, port)


@app.command("central")
def central_info(
    ctx: typer.Context,
    ca_out: Annotated[
        Path | None, typer.Option(help="write the CA certificate (PEM) here for the sites")
    ] = None,
) -> None:
    """Where sites reach this central, and the CA fingerprint they pin (printed whole)."""
    from edgewise.cli.context import cli_context
    from edgewise.cli.output import show_item

    cli = cli_context(ctx)
    info = cli.client.get_json("api/v1/central")
    if ca_out is not None:
        ca_out.write_text(info["caCertificate"])
    shown = {k: v for k, v in info.items() if k != "caCertificate"}
    if ca_out is not None:
        shown["caWrittenTo"] = str(ca_out)
    show_item(shown, as_json=cli.as_json)


def main() -> None:
    """Console entry point: CLI errors become one line on stderr and an exit status (1 for
    failures, 2 for usage); so do the lab's (the demo's, the simulator's), with status 1."""
    try:
        status = app(standalone_mode=False)
    except CliError as exc:
        error_line(f"error: {exc.message}")
        sys.exit(exc.exit_code)
    except LabError as exc:
        error_line(f"error: {exc.message}")
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        error_line("aborted")
        sys.exit(130)
    except typer.TyperException as exc:  # click's usage errors: exit 2, with a pointer to help
        sys.exit(usage_error(exc))
    except Exception as exc:  # noqa: BLE001 - anything else still ends in one line
        error_line(f"error: {type(exc).__name__}: {exc}")
        sys.exit(1)
    sys.exit(status if isinstance(status, int) else 0)


def usage_error(exc: typer.TyperException) -> int:
    """Shows a usage error in one line (or, for a command group named alone, its help) and
    returns its exit status (2)."""
    context = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
        shown = context.get_help()  # typer's rich help prints itself and returns ""
        if shown:
            error_line(shown)
        return exc.exit_code
    hint = f" (see: {context.command_path} --help)" if context is not None else ""
    error_line(f"error: {exc.format_message()}{hint}")
    return exc.exit_code
