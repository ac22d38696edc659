"""`edgewise ns`: network service instances (SOL005 NS LCM) — create, instantiate on sites,
follow the operation with a progress bar, terminate, delete."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from edgewise.cli.client import CentralClient
from edgewise.cli.context import CliContext, cli_context
from edgewise.cli.errors import CliError
from edgewise.cli.output import console, named, show_item, show_items
from edgewise.cli.resolve import NS as NS_KIND
from edgewise.cli.resolve import NSD, OPERATION, TENANT, resolve

app = typer.Typer(help="Network service instances: NSDs running on sites.", no_args_is_help=True)

NS = "nslcm/v1/ns_instances"
OPS = "nslcm/v1/ns_lcm_op_occs"
FINAL = ("COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK")

NsId = Annotated[str, typer.Argument(help="the NS instance's name, id or id prefix")]
NS_COLUMNS = [
    ("id", lambda n: n["id"]),
    ("name", lambda n: n["nsInstanceName"]),
    ("NSD", lambda n: n["nsdId"]),
    ("state", lambda n: n["nsState"]),
    ("sites", lambda n: len(n.get("sites", []))),
]
OP_COLUMNS = [
    ("id", lambda o: o["id"]),
    ("operation", lambda o: o["lcmOperationType"]),
    ("state", lambda o: o["operationState"]),
    ("sites done", lambda o: f"{o.get('sitesDone', 0)}/{o.get('sitesTotal', 0)}"),
    ("NS", lambda o: o["nsInstanceId"]),
    ("started", lambda o: o["startTime"]),
]

PLACED_COLUMNS = [
    ("site", lambda c: c["siteName"]),
    ("id", lambda c: c["siteId"]),
    ("free slots", lambda c: f"{c['freeSlots']}/{c['slots']}"),
]
REJECTED_COLUMNS = [("site", lambda r: r["siteName"]), ("why not", lambda r: r["reason"])]
WaitOption = Annotated[
    bool, typer.Option("--wait/--no-wait", help="follow the operation until it ends")
]
TimeoutOption = Annotated[
    float, typer.Option(min=1, help="seconds to wait for the operation (with --wait)")
]


@app.command("create")
def create(
    ctx: typer.Context,
    nsd: Annotated[
        str, typer.Argument(help="the NSD: its NsdInfo id or id prefix, name or descriptor id")
    ],
    name: Annotated[str, typer.Option(help="the NS instance's name")],
    description: str = "",
    tenant: Annotated[
        str | None, typer.Option(help="owning tenant: name, id or id prefix (admins)")
    ] = None,
) -> None:
    """Creates an NS instance (NOT_INSTANTIATED) from an onboarded NSD."""
    cli = cli_context(ctx)
    body: dict[str, Any] = {"nsdId": resolve(cli.client, NSD, nsd), "nsName": name,
                            "nsDescription": description}  # fmt: skip
    if tenant:
        body["tenantId"] = resolve(cli.client, TENANT, tenant)
    show_item(cli.client.post_json(NS, body), as_json=cli.as_json)


SiteOption = Annotated[
    list[str] | None, typer.Option("--site", help="a site id or name, repeatable")
]
LabelsOption = Annotated[str | None, typer.Option(help="criteria: label selector k=v[,k=v]")]
KindOption = Annotated[str | None, typer.Option(help="criteria: on-premise or cloud")]
MinFreeOption = Annotated[int, typer.Option(min=0, help="criteria: VNF slots left free per site")]
StrategyOption = Annotated[str, typer.Option(help="criteria: least-occupied, pack or spread")]
CountOption = Annotated[int | None, typer.Option(min=1, help="criteria: how many sites")]
SpreadByOption = Annotated[str, typer.Option(help="criteria: spread over this label")]


def placement_params(
    site: list[str] | None,
    labels: str | None,
    kind: str | None,
    min_free_slots: int,
    strategy: str,
    count: int | None,
    spread_by: str,
) -> dict[str, Any]:
    """`additionalParamsForNs`: the sites named, else the criteria given."""
    criteria: dict[str, Any] = {"minFreeSlots": min_free_slots, "strategy": strategy,
                                "spreadBy": spread_by}  # fmt: skip
    if labels:
        criteria["labels"] = labels
    if kind:
        criteria["kind"] = kind
    if count:
        criteria["count"] = count
    if site and (labels or kind or count):
        raise CliError("name sites (--site) or give criteria (--labels ...), not both", 2)
    return {"sites": site} if site else {"placement": criteria}


@app.command("instantiate")
def instantiate(
    ctx: typer.Context,
    ns_id: NsId,
    site: SiteOption = None,
    labels: LabelsOption = None,
    kind: KindOption = None,
    min_free_slots: MinFreeOption = 0,
    strategy: StrategyOption = "least-occupied",
    count: CountOption = None,
    spread_by: SpreadByOption = "region",
    flavour: Annotated[str, typer.Option(help="the NSD's deployment flavour")] = "default",
    vnf_param: Annotated[
        list[str] | None,
        typer.Option(
            "--vnf-param",
            help="VNF.input=VALUE: an input of a third-party VNF "
            '(by its VNF profile), repeatable, e.g. dns.dhcp_first="172.16.0.100"',
        ),
    ] = None,
    wait: WaitOption = True,
    timeout: TimeoutOption = 300.0,
) -> None:
    """Instantiates the NS on the sites named or chosen by criteria; with --wait, shows the
    sites' progress until the operation ends."""
    cli = cli_context(ctx)
    params = placement_params(site, labels, kind, min_free_slots, strategy, count, spread_by)
    body: dict[str, Any] = {"nsFlavourId": flavour, "additionalParamsForNs": params}
    if vnf_param:
        body["additionalParamsForVnf"] = [
            {"vnfProfileId": vnf, "additionalParams": values}
            for vnf, values in assignments(vnf_param, "--vnf-param", "VNF.input").items()
        ]
    _operate(cli, ns_id, "instantiate", body, wait, timeout)


@app.command("place")
def place(
    ctx: typer.Context,
    ns_id: NsId,
    site: SiteOption = None,
    labels: LabelsOption = None,
    kind: KindOption = None,
    min_free_slots: MinFreeOption = 0,
    strategy: StrategyOption = "least-occupied",
    count: CountOption = None,
    spread_by: SpreadByOption = "region",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="only show where it would go and why")
    ] = False,
) -> None:
    """Shows where the NS would go — the sites chosen and, for every other site, why not — and,
    without --dry-run, instantiates it there."""
    cli = cli_context(ctx)
    params = placement_params(site, labels, kind, min_free_slots, strategy, count, spread_by)
    ns_id = resolve(cli.client, NS_KIND, ns_id)
    plan = cli.client.post_json(f"{NS}/{ns_id}/placement", params)
    if cli.as_json:
        print(json.dumps(plan, indent=2, sort_keys=True))
    else:
        show_items(plan["chosen"], PLACED_COLUMNS, as_json=False, title="chosen")
        show_items(plan["rejected"], REJECTED_COLUMNS, as_json=False, title="not chosen")
    if plan["refusal"]:
        raise CliError("the NS cannot be placed: " + "; ".join(plan["refusal"]))
    if dry_run:
        return
    body = {"nsFlavourId": "default", "additionalParamsForNs": params}
    _operate(cli, ns_id, "instantiate", body, wait=True, timeout=300.0)


@app.command("update")
def update(
    ctx: typer.Context,
    ns_id: NsId,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help='VNF.property=JSON value, e.g. firewall.default_action="accept"'
        ),
    ] = None,
    add_site: Annotated[list[str] | None, typer.Option(help="a site to add, repeatable")] = None,
    remove_site: Annotated[
        list[str] | None, typer.Option(help="a site to remove, repeatable")
    ] = None,
    nsd: Annotated[
        str | None,
        typer.Option(help="move the NS to this version of its NSD (nsdId or NsdInfo id)"),
    ] = None,
    add_vnf: Annotated[
        str | None, typer.Option(help="put this VNF package's VNF (its vnfdId) into the chain")
    ] = None,
    vnf_name: Annotated[
        str | None, typer.Option(help="with --add-vnf: its name in the NS (default: vnfdId)")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(help="with --add-vnf: input=JSON (a bare word is a string), repeatable"),
    ] = None,
    before: Annotated[
        str | None, typer.Option(help="with --add-vnf: the VNF it goes before (LAN side)")
    ] = None,
    after: Annotated[
        str | None, typer.Option(help="with --add-vnf: the VNF it goes after (default: WAN end)")
    ] = None,
    remove_vnf: Annotated[
        list[str] | None, typer.Option(help="a VNF to take out of the chain, repeatable")
    ] = None,
    wait: WaitOption = True,
    timeout: TimeoutOption = 300.0,
) -> None:
    """Changes VNF configuration on every site of the NS, adds and removes sites, puts a VNF
    package's VNF into the chain or takes VNFs out, or moves it to another version of its NSD."""
    cli = cli_context(ctx)
    given = (bool(set_), bool(add_site or remove_site), nsd is not None, add_vnf is not None,
             bool(remove_vnf))  # fmt: skip
    if sum(given) > 1:
        raise CliError("give one of: --set, --add-site/--remove-site, --nsd, --add-vnf, "
                       "--remove-vnf", 2)  # fmt: skip
    if add_vnf is None and (vnf_name or param or before or after):
        raise CliError("--vnf-name, --param, --before and --after go with --add-vnf", 2)
    if add_vnf is not None:
        body: dict[str, Any] = {"updateType": "INSTANTIATE_VNF",
                                "instantiateVnfData": [added_vnf(add_vnf, vnf_name, param,
                                                                 before, after)]}  # fmt: skip
    elif remove_vnf:
        body = {"updateType": "REMOVE_VNF", "removeVnfInstanceId": remove_vnf}
    elif nsd is not None:
        body = {"updateType": "ASSOC_NEW_NSD_VERSION",
                                "assocNewNsdVersionData": {"newNsdId": nsd}}  # fmt: skip
    elif set_:
        body = {"updateType": "MODIFY_VNF_INFORMATION",
                                "modifyVnfInfoData": vnf_changes(set_)}  # fmt: skip
    elif add_site or remove_site:
        sites = {"add": add_site or [], "remove": remove_site or []}
        body = {"updateType": "CHANGE_SITES", "changeSitesData": sites}
    else:
        raise CliError("nothing to update: give --set, --add-site, --remove-site, --nsd, "
                       "--add-vnf or --remove-vnf", 2)  # fmt: skip
    _operate(cli, ns_id, "update", body, wait, timeout)


def added_vnf(
    vnfd_id: str, name: str | None, params: list[str] | None, before: str | None,
    after: str | None,
) -> dict[str, Any]:  # fmt: skip
    """The InstantiateVnfData of `--add-vnf` and its options."""
    if before is not None and after is not None:
        raise CliError("give --before or --after, not both", 2)
    data: dict[str, Any] = {"vnfdId": vnfd_id, "vnfFlavourId": "default"}
    if name is not None:
        data["vnfInstanceName"] = name
    values = {}
    for given in params or []:
        key, sep, raw = given.partition("=")
        if not sep or not key:
            raise CliError(f"--param {given!r}: write input=VALUE", 2)
        values[key] = json_or_text(raw)
    if values:
        data["additionalParams"] = values
    if before is not None or after is not None:
        data["chainPosition"] = {"before": before} if before is not None else {"after": after}
    return data


def vnf_changes(given: list[str]) -> list[dict[str, Any]]:
    """`firewall.default_action="accept"` -> modifyVnfInfoData entries, one per VNF."""
    changes = assignments(given, "--set", "VNF.property")
    return [{"vnfInstanceId": v, "vnfConfigurableProperties": p} for v, p in changes.items()]


def assignments(given: list[str], option: str, shape: str) -> dict[str, dict[str, Any]]:
    """`VNF.key=JSON` values (a bare word is a string), by VNF."""
    found: dict[str, dict[str, Any]] = {}
    for assignment in given:
        target, sep, raw = assignment.partition("=")
        vnf, dot, key = target.partition(".")
        if not sep or not dot or not vnf or not key:
            raise CliError(f"{option} {assignment!r}: write {shape}=JSON", 2)
        found.setdefault(vnf, {})[key] = json_or_text(raw)
    return found


def json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # a bare word is a string


@app.command("heal")
def heal(
    ctx: typer.Context, ns_id: NsId, wait: WaitOption = True, timeout: TimeoutOption = 300.0
) -> None:
    """Every site of the NS re-checks its service and repairs what drifted."""
    cli = cli_context(ctx)
    _operate(cli, ns_id, "heal", {}, wait, timeout)


@app.command("scale")
def scale(
    ctx: typer.Context,
    ns_id: NsId,
    aspect: Annotated[str, typer.Option(help="the NSD's NS scaling aspect")] = "sites",
    out: Annotated[int, typer.Option("--out", min=0, help="steps out: more sites")] = 0,
    in_: Annotated[int, typer.Option("--in", min=0, help="steps in: fewer sites")] = 0,
    level: Annotated[int | None, typer.Option(min=0, help="go to this level instead")] = None,
    site: Annotated[
        list[str] | None, typer.Option(help="a site to add, repeatable (default: placement)")
    ] = None,
    wait: WaitOption = True,
    timeout: TimeoutOption = 300.0,
) -> None:
    """Scales the NS out to more sites or in off some (a site runs one instance of each VNF)."""
    cli = cli_context(ctx)
    if sum((out > 0, in_ > 0, level is not None)) != 1:
        raise CliError("give one of --out N, --in N or --level N", 2)
    data: dict[str, Any]
    if level is not None:
        info = [{"nsScalingAspectId": aspect, "nsScaleLevelId": str(level)}]
        data = {"scaleNsToLevelData": {"nsScaleInfo": info}}
    else:
        direction = "SCALE_OUT" if out else "SCALE_IN"
        data = {"scaleNsByStepsData": {"scalingDirection": direction, "aspectId": aspect,
                                       "numberOfSteps": out or in_}}  # fmt: skip
    if site:
        data["additionalParamsForNs"] = {"sites": site}
    _operate(cli, ns_id, "scale", {"scaleType": "SCALE_NS", "scaleNsData": data}, wait, timeout)


@app.command("terminate")
def terminate(
    ctx: typer.Context,
    ns_id: NsId,
    wait: WaitOption = True,
    timeout: TimeoutOption = 300.0,
) -> None:
    """Takes the NS off every site it runs on."""
    cli = cli_context(ctx)
    _operate(cli, ns_id, "terminate", {}, wait, timeout)


@app.command("list")
def list_instances(ctx: typer.Context) -> None:
    """Lists NS instances (all pages)."""
    cli = cli_context(ctx)
    show_items(cli.client.list_all(NS), NS_COLUMNS, as_json=cli.as_json)


@app.command("show")
def show(ctx: typer.Context, ns_id: NsId) -> None:
    """Shows one NS instance and its VNFs' current configuration."""
    cli = cli_context(ctx)
    ns = cli.client.get_json(f"{NS}/{resolve(cli.client, NS_KIND, ns_id)}")
    show_item(ns | {"vnfs": vnf_configuration(cli.client, ns)}, as_json=cli.as_json)


def vnf_configuration(client: CentralClient, ns: dict[str, Any]) -> dict[str, Any] | None:
    """Each VNF's function and configuration as the NS's sites are told to run it (the sites'
    entries differ by tenant at most, so the first site's desired state tells); None when the
    NS runs nowhere."""
    for site_id in ns.get("sites", [])[:1]:
        desired = client.get_json(f"api/v1/sites/{site_id}/desired-state")
        for service in desired["document"].get("services", []):
            if service.get("id") == ns["id"]:
                return {vnf["name"]: {"function": vnf["function"], **vnf.get("config", {})}
                        for vnf in service.get("vnfs", [])}  # fmt: skip
    return None


@app.command("delete")
def delete(ctx: typer.Context, ns_id: NsId) -> None:
    """Deletes a NOT_INSTANTIATED NS instance."""
    cli = cli_context(ctx)
    found = resolve(cli.client, NS_KIND, ns_id)
    cli.client.request("DELETE", f"{NS}/{found}")
    print(f"NS instance {named(ns_id, found)} deleted")


@app.command("ops")
def operations(
    ctx: typer.Context,
    op_id: Annotated[
        str | None, typer.Argument(help="one operation occurrence: its id or id prefix")
    ] = None,
    ns: Annotated[
        str | None, typer.Option(help="only this NS instance's operations (name or id)")
    ] = None,
) -> None:
    """Lists operation occurrences, oldest first, or shows one."""
    cli = cli_context(ctx)
    if op_id:
        show_item(cli.client.get_json(f"{OPS}/{resolve(cli.client, OPERATION, op_id)}"),
                  as_json=cli.as_json)  # fmt: skip
        return
    params = {"nsInstanceId": resolve(cli.client, NS_KIND, ns)} if ns else None
    found = sorted(cli.client.list_all(OPS, params), key=lambda o: (o["startTime"], o["id"]))
    show_items(found, OP_COLUMNS, as_json=cli.as_json)


def _operate(
    cli: CliContext, ns_id: str, task: str, body: dict[str, Any], wait: bool, timeout: float
) -> None:
    """Starts operation `task` on the NS instance and shows it (followed, with `wait`)."""
    ns_id = resolve(cli.client, NS_KIND, ns_id)
    response = cli.client.request("POST", f"{NS}/{ns_id}/{task}", json=body)
    after_start(cli.client, response.headers["Location"], wait, timeout, cli.as_json)


def after_start(
    client: CentralClient,
    location: str,
    wait: bool,
    timeout: float,
    as_json: bool,
    ok: tuple[str, ...] = (),
) -> None:
    """Shows the operation at `location` (followed to its end, with `wait`); a CliError unless
    it is PROCESSING, COMPLETED or in one of the states `ok`."""
    op = client.get_json(location)
    if wait:
        op = follow(client, location, timeout, show_progress=not as_json)
    show_item(op, as_json=as_json)
    if op["operationState"] not in ("PROCESSING", "COMPLETED", *ok):
        raise CliError(
            f"operation {op['id']} is {op['operationState']}: "
            + str((op.get("error") or {}).get("detail", "no detail"))
        )


def follow(
    client: CentralClient, location: str, timeout: float, *, show_progress: bool = True
) -> dict[str, Any]:
    """Polls the operation occurrence until it ends or `timeout` passes; a bar shows sites done."""
    deadline = time.monotonic() + timeout
    op: dict[str, Any] = client.get_json(location)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("sites"),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task(op["lcmOperationType"].lower(), total=op.get("sitesTotal") or 1)
        while op["operationState"] not in FINAL:
            progress.update(task, completed=op.get("sitesDone", 0))
            if time.monotonic() > deadline:
                raise CliError(
                    f"operation {op['id']} still {op['operationState']} after {timeout:.0f} s "
                    f"({op.get('sitesDone', 0)}/{op.get('sitesTotal', 0)} sites); "
                    f"follow it with: edgewise ns ops {op['id']}"
                )
            time.sleep(0.2)
            op = client.get_json(location)
        progress.update(task, completed=op.get("sitesDone", 0))
    return op
