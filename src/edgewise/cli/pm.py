"""`edgewise pm`: SOL005 NS performance management over `nspm/v1` — PM jobs and their reports,
thresholds (what Edgewise measures: docs/nspm.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from edgewise.cli.client import CentralClient
from edgewise.cli.context import cli_context
from edgewise.cli.errors import CliError
from edgewise.cli.output import show_item, show_items
from edgewise.cli.resolve import NS, SITE, TENANT, Kind, resolve

app = typer.Typer(help="NS performance management: PM jobs, reports, thresholds.",
                  no_args_is_help=True)  # fmt: skip
jobs = typer.Typer(help="PM jobs: metrics of NS instances or sites, collected and reported.",
                   no_args_is_help=True)  # fmt: skip
thresholds = typer.Typer(help="Thresholds: a metric of one object, notified when it crosses.",
                         no_args_is_help=True)  # fmt: skip
app.add_typer(jobs, name="job")
app.add_typer(thresholds, name="threshold")
JOBS, THRESHOLDS = "nspm/v1/pm_jobs", "nspm/v1/thresholds"
PM_JOB = Kind("PM job", (JOBS,), names=())
THRESHOLD = Kind("threshold", (THRESHOLDS,), names=())
JobId = Annotated[str, typer.Argument(help="the PM job's id or id prefix")]
ThresholdId = Annotated[str, typer.Argument(help="the threshold's id or id prefix")]
ObjectType = Annotated[
    str, typer.Option("--object-type", help="NS (NS instances) or SITE (sites' WAN links)")
]
Tenant = Annotated[str | None, typer.Option(help="owning tenant: name, id or id prefix (admins)")]

JOB_COLUMNS = [
    ("id", lambda j: j["id"]),
    ("type", lambda j: j["objectType"]),
    ("objects", lambda j: len(j["objectInstanceIds"])),
    ("metrics", lambda j: ", ".join(_metrics(j["criteria"]))),
    ("collect", lambda j: f"{j['criteria']['collectionPeriod']} s"),
    ("report", lambda j: f"{j['criteria']['reportingPeriod']} s"),
    ("reports", lambda j: len(j.get("reports", []))),
]
THRESHOLD_COLUMNS = [
    ("id", lambda t: t["id"]),
    ("type", lambda t: t["objectType"]),
    ("object", lambda t: t["objectInstanceId"]),
    ("metric", lambda t: t["criteria"]["performanceMetric"]),
    ("value", lambda t: t["criteria"]["simpleThresholdDetails"]["thresholdValue"]),
    ("hysteresis", lambda t: t["criteria"]["simpleThresholdDetails"]["hysteresis"]),
]
ENTRY_COLUMNS = [
    ("object", lambda e: e["objectInstanceId"]),
    ("metric", lambda e: e["performanceMetric"]),
    ("samples", lambda e: len(e["performanceValues"])),
    ("last", lambda e: e["performanceValues"][-1]["value"]),
    ("at", lambda e: e["performanceValues"][-1]["timeStamp"]),
]


def _metrics(criteria: dict[str, Any]) -> list[str]:
    return [*criteria.get("performanceMetric", []), *criteria.get("performanceMetricGroup", [])]


def _object(client: CentralClient, object_type: str, ref: str) -> str:
    if object_type not in ("NS", "SITE"):
        raise CliError(f"--object-type {object_type!r}: expected NS or SITE", exit_code=2)
    return resolve(client, NS if object_type == "NS" else SITE, ref)


@jobs.command("create")
def create_job(
    ctx: typer.Context,
    objects: Annotated[list[str], typer.Argument(help="NS instances (or sites): names or ids")],
    metric: Annotated[
        list[str] | None, typer.Option(help="a metric, e.g. PacketCount.firewall")
    ] = None,
    group: Annotated[list[str] | None, typer.Option(help="a metric group, e.g. VnfTraffic")] = None,
    collect: Annotated[int, typer.Option(help="collection period, s")] = 60,
    report: Annotated[
        int, typer.Option(help="reporting period, s (a multiple of --collect)")
    ] = 300,
    object_type: ObjectType = "NS",
    tenant: Tenant = None,
) -> None:
    """Creates a PM job: the metrics of the objects, sampled every --collect s, a report
    every --report s."""
    cli = cli_context(ctx)
    if not metric and not group:
        raise CliError("give at least one --metric or --group", exit_code=2)
    body: dict[str, Any] = {
        "objectType": object_type,
        "objectInstanceIds": [_object(cli.client, object_type, ref) for ref in objects],
        "criteria": {"performanceMetric": metric or [], "performanceMetricGroup": group or [],
                     "collectionPeriod": collect, "reportingPeriod": report},
    }  # fmt: skip
    if tenant:
        body["tenantId"] = resolve(cli.client, TENANT, tenant)
    show_item(cli.client.post_json(JOBS, body), as_json=cli.as_json)


@jobs.command("list")
def list_jobs(ctx: typer.Context) -> None:
    """Lists PM jobs and how many reports each has."""
    cli = cli_context(ctx)
    found = cli.client.list_all(JOBS, {"all_fields": ""})
    show_items(found, JOB_COLUMNS, as_json=cli.as_json)


@jobs.command("show")
def show_job(ctx: typer.Context, job_id: JobId) -> None:
    """Shows a PM job with its reports."""
    cli = cli_context(ctx)
    show_item(cli.client.get_json(f"{JOBS}/{resolve(cli.client, PM_JOB, job_id)}"),
              as_json=cli.as_json)  # fmt: skip


@jobs.command("report")
def show_report(
    ctx: typer.Context,
    job_id: JobId,
    report_id: Annotated[
        str | None, typer.Argument(help="a report's id; the latest if none")
    ] = None,
) -> None:
    """Shows a report of a PM job: per object and metric, the samples and the last value."""
    cli = cli_context(ctx)
    job = cli.client.get_json(f"{JOBS}/{resolve(cli.client, PM_JOB, job_id)}")
    hrefs = [r["href"] for r in job.get("reports", [])]
    if report_id is not None:
        hrefs = [h for h in hrefs if h.rsplit("/", 1)[-1].startswith(report_id)]
    if not hrefs:
        wanted = f"report {report_id!r}" if report_id else "report yet"
        raise CliError(f"PM job {job['id']} has no {wanted}")
    report = cli.client.get_json(f"{JOBS}/{job['id']}/reports/{hrefs[-1].rsplit('/', 1)[-1]}")
    if cli.as_json:
        show_item(report, as_json=True)
        return
    show_items(report["entries"], ENTRY_COLUMNS, as_json=False)


@jobs.command("delete")
def delete_job(ctx: typer.Context, job_id: JobId) -> None:
    """Deletes a PM job and its reports."""
    cli = cli_context(ctx)
    found = resolve(cli.client, PM_JOB, job_id)
    cli.client.request("DELETE", f"{JOBS}/{found}")
    print(f"deleted PM job {found}")


@thresholds.command("create")
def create_threshold(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="the NS instance (or site): name or id")],
    metric: Annotated[str, typer.Option(help="the metric, e.g. PacketCount.firewall")],
    value: Annotated[float, typer.Option(help="the threshold value")],
    hysteresis: Annotated[
        float, typer.Option(min=0, help="crossing UP at value + this, DOWN at value - this")
    ] = 0.0,
    object_type: ObjectType = "NS",
    tenant: Tenant = None,
) -> None:
    """Creates a SIMPLE threshold: a ThresholdCrossedNotification each time it crosses."""
    cli = cli_context(ctx)
    body: dict[str, Any] = {
        "objectType": object_type,
        "objectInstanceId": _object(cli.client, object_type, target),
        "criteria": {"performanceMetric": metric, "thresholdType": "SIMPLE",
                     "simpleThresholdDetails": {"thresholdValue": value,
                                                "hysteresis": hysteresis}},
    }  # fmt: skip
    if tenant:
        body["tenantId"] = resolve(cli.client, TENANT, tenant)
    show_item(cli.client.post_json(THRESHOLDS, body), as_json=cli.as_json)


@thresholds.command("list")
def list_thresholds(ctx: typer.Context) -> None:
    """Lists thresholds."""
    cli = cli_context(ctx)
    show_items(cli.client.list_all(THRESHOLDS), THRESHOLD_COLUMNS, as_json=cli.as_json)


@thresholds.command("show")
def show_threshold(ctx: typer.Context, threshold_id: ThresholdId) -> None:
    """Shows a threshold."""
    cli = cli_context(ctx)
    found = resolve(cli.client, THRESHOLD, threshold_id)
    show_item(cli.client.get_json(f"{THRESHOLDS}/{found}"), as_json=cli.as_json)


@thresholds.command("delete")
def delete_threshold(ctx: typer.Context, threshold_id: ThresholdId) -> None:
    """Deletes a threshold."""
    cli = cli_context(ctx)
    found = resolve(cli.client, THRESHOLD, threshold_id)
    cli.client.request("DELETE", f"{THRESHOLDS}/{found}")
    print(f"deleted threshold {found}")
