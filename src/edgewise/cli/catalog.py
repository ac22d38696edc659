"""`edgewise catalog`: validate descriptors offline; onboard, list, show, disable, enable and
delete them on the central."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Annotated, Any

import typer

from edgewise.cli.client import CentralClient
from edgewise.cli.context import cli_context
from edgewise.cli.errors import CliError
from edgewise.cli.output import console, error_line, named, show_item, show_items
from edgewise.cli.resolve import CATALOG, TENANT, resolve
from edgewise.tosca import LoadResult, TypeCache, load_path

app = typer.Typer(help="The catalog of NS descriptors and VNF packages.", no_args_is_help=True)

NSDS = "nsd/v1/ns_descriptors"
PACKAGES = "vnfpkgm/v1/vnf_packages"
Paths = Annotated[list[Path], typer.Argument(help="YAML templates, CSAR directories or zips")]
Strict = Annotated[
    bool,
    typer.Option(
        "--strict", help="refuse the deviations from SOL001 otherwise loaded with a warning"
    ),
]


@app.command()
def validate(paths: Paths, strict: Strict = False) -> None:
    """Loads descriptors or packages offline, prints every problem (warnings too); exit 0 only if
    all are valid."""
    valid = invalid = 0
    types = TypeCache()  # type files shared by the packages are parsed once
    for path in paths:
        result = load_path(path, cache=types, strict=strict)
        if result.ok and result.descriptor is not None:
            valid += 1
            d = result.descriptor
            warned = len(result.problems)
            console.print(
                f"[green]valid[/green]   {path}: {d.kind.upper()} {d.descriptor_id} "
                f"({d.node_count} nodes, {d.policy_count} policies, {d.chain_count} chains"
                + (f"; {warned} warning(s))" if warned else ")")
            )
        else:
            invalid += 1
            console.print(f"[red]invalid[/red] {path}: {len(result.problems)} problem(s)")
        for problem in result.problems:
            console.print(f"  {problem}", markup=False, highlight=False)
    console.print(f"{valid} valid, {invalid} invalid", markup=False, highlight=False)
    if invalid:
        raise typer.Exit(1)


def package_bytes(path: Path, result: LoadResult) -> tuple[bytes, str]:
    """What to upload for `path`: a directory becomes a CSAR zip; a VNFD YAML file is wrapped."""
    if path.is_dir():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                archive.write(file, file.relative_to(path).as_posix())
        return buffer.getvalue(), "application/zip"
    data = path.read_bytes()
    if data[:4] == b"PK\x03\x04":
        return data, "application/zip"
    if result.descriptor is not None and result.descriptor.kind == "vnfd":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                "TOSCA-Metadata/TOSCA.meta",
                "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: edgewise CLI\n"
                f"Entry-Definitions: Definitions/{path.name}\n",
            )
            archive.writestr(f"Definitions/{path.name}", data)
        return buffer.getvalue(), "application/zip"
    return data, "text/plain"


@app.command()
def onboard(
    ctx: typer.Context,
    paths: Paths,
    tenant: Annotated[
        str | None,
        typer.Option(help="owning tenant: name, id or id prefix (admins; default: shared)"),
    ] = None,
    strict: Strict = False,
) -> None:
    """Validates every file locally first (and prints every file's problems, and the warnings
    of the valid ones: tolerated deviations), then creates and uploads each; a failed upload
    leaves nothing behind."""
    cli = cli_context(ctx)
    types = TypeCache()
    loaded = [(path, load_path(path, cache=types, strict=strict)) for path in paths]
    invalid = [(path, r) for path, r in loaded if not r.ok or r.descriptor is None]
    for path, result in loaded:
        if result.problems:
            what = "problem(s)" if (path, result) in invalid else "warning(s)"
            error_line(f"{path}: {len(result.problems)} {what}")
        for problem in result.problems:
            error_line(f"  {problem}")
    if invalid:
        names = ", ".join(str(path) for path, _ in invalid)
        raise CliError(f"{len(invalid)} of {len(paths)} not valid ({names}); nothing onboarded")
    owner = resolve(cli.client, TENANT, tenant) if tenant else None
    onboarded: list[dict[str, Any]] = []
    for path, result in loaded:
        assert result.descriptor is not None  # the invalid ones stopped us above
        kind = result.descriptor.kind
        collection = "nsd/v1/ns_descriptors" if kind == "nsd" else "vnfpkgm/v1/vnf_packages"
        content_path = "nsd_content" if kind == "nsd" else "package_content"
        data, media_type = package_bytes(path, result)
        body: dict[str, Any] = {"userDefinedData": {"source": path.name}}
        if owner:
            body["tenantId"] = owner
        created = cli.client.post_json(collection, body)
        try:
            cli.client.request(
                "PUT",
                f"{collection}/{created['id']}/{content_path}",
                content=data,
                headers={"Content-Type": media_type},
            )
        except CliError:
            cli.client.request("DELETE", f"{collection}/{created['id']}")
            raise
        info = cli.client.get_json(f"{collection}/{created['id']}")
        onboarded.append(
            {
                "id": info["id"],
                "kind": kind.upper(),
                "descriptorId": result.descriptor.descriptor_id,
                "path": str(path),
            }
        )
    show_items(
        onboarded,
        [
            ("id", lambda r: r["id"]),
            ("kind", lambda r: r["kind"]),
            ("descriptor", lambda r: r["descriptorId"]),
            ("from", lambda r: r["path"]),
        ],
        as_json=cli.as_json,
        title="Onboarded",
    )


@app.command("list")
def list_catalog(ctx: typer.Context) -> None:
    """Lists NS descriptors and VNF packages."""
    cli = cli_context(ctx)
    items = [
        {
            "id": d["id"],
            "kind": "NSD",
            "descriptorId": d.get("nsdId"),
            "name": d.get("nsdName"),
            "version": d.get("nsdVersion"),
            "state": f"{d['nsdOnboardingState']}/{d['nsdOperationalState']}/{d['nsdUsageState']}",
            "owner": d.get("tenantId") or "shared",
        }
        for d in cli.client.list_all("nsd/v1/ns_descriptors")
    ] + [
        {
            "id": p["id"],
            "kind": "VNF",
            "descriptorId": p.get("vnfdId"),
            "name": p.get("vnfProductName"),
            "version": p.get("vnfSoftwareVersion"),
            "state": f"{p['onboardingState']}/{p['operationalState']}/{p['usageState']}",
            "owner": p.get("tenantId") or "shared",
        }
        for p in cli.client.list_all("vnfpkgm/v1/vnf_packages")
    ]
    show_items(
        items,
        [
            ("id", lambda r: r["id"]),
            ("kind", lambda r: r["kind"]),
            ("descriptor", lambda r: r["descriptorId"]),
            ("name", lambda r: r["name"]),
            ("version", lambda r: r["version"]),
            ("state", lambda r: r["state"]),
            ("owner", lambda r: r["owner"]),
        ],
        as_json=cli.as_json,
        title="Catalog",
    )


ItemRef = Annotated[
    str, typer.Argument(help="NSD or VNF package: its id, id prefix, name or descriptor id")
]


@app.command()
def show(ctx: typer.Context, item: ItemRef) -> None:
    """Shows one NS descriptor or VNF package."""
    cli = cli_context(ctx)
    collection, item_id = _find(cli.client, item)
    show_item(cli.client.get_json(f"{collection}/{item_id}", {"all_fields": ""}),
              as_json=cli.as_json)  # fmt: skip


@app.command()
def disable(ctx: typer.Context, item: ItemRef) -> None:
    """Disables an NSD or VNF package: no new NS instance may use it; running ones go on."""
    _set_state(ctx, item, "DISABLED")


@app.command()
def enable(ctx: typer.Context, item: ItemRef) -> None:
    """Enables a disabled NSD or VNF package again."""
    _set_state(ctx, item, "ENABLED")


@app.command()
def delete(ctx: typer.Context, item: ItemRef) -> None:
    """Deletes an NSD or VNF package (disable it first; none may be in use)."""
    cli = cli_context(ctx)
    collection, item_id = _find(cli.client, item)
    cli.client.request("DELETE", f"{collection}/{item_id}")
    print(f"deleted {named(item, item_id)}")


def _set_state(ctx: typer.Context, item: str, state: str) -> None:
    cli = cli_context(ctx)
    collection, item_id = _find(cli.client, item)
    field = "nsdOperationalState" if collection == NSDS else "operationalState"
    cli.client.request(
        "PATCH",
        f"{collection}/{item_id}",
        json={field: state},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    print(f"{named(item, item_id)} is {state}")


def _find(client: CentralClient, item: str) -> tuple[str, str]:
    """The collection and id of the NSD or VNF package `item` names."""
    item_id = resolve(client, CATALOG, item)
    for collection in (NSDS, PACKAGES):
        if client.get_optional(f"{collection}/{item_id}") is not None:
            return collection, item_id
    raise CliError(f"no NS descriptor or VNF package has id {item_id}")
