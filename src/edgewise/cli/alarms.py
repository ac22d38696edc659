"""`edgewise alarm`: the central's alarms over SOL005 NS fault management (`nsfm/v1`) — list
them (active ones by default), show one, acknowledge one. An alarm is named by its id or an
unambiguous id prefix; a site by its name, id or id prefix."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from edgewise.central.services.alarm_terms import Kind as AlarmKind
from edgewise.central.services.alarm_terms import Severity
from edgewise.cli.context import cli_context
from edgewise.cli.output import Column, show_item, show_items
from edgewise.cli.resolve import SITE, Kind, resolve

app = typer.Typer(
    help="Alarms (SOL005 fault management): list, show, acknowledge.", no_args_is_help=True
)
ALARMS = "nsfm/v1/alarms"
ALARM = Kind("alarm", (ALARMS,), names=())
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
AlarmRef = Annotated[str, typer.Argument(help="the alarm's id or id prefix")]


def _root(alarm: dict[str, Any]) -> str:
    """`root` for a root cause, else the first eight characters of its root's id."""
    if alarm.get("isRootCause"):
        return "root"
    correlated = alarm.get("correlatedAlarmIds") or [""]
    return f"-> {correlated[0][:8]}"


COLUMNS: list[Column] = [
    ("id", lambda a: a["id"]),
    ("severity", lambda a: a["perceivedSeverity"]),
    ("kind", lambda a: a.get("kind", a.get("probableCause"))),
    ("component", lambda a: a.get("component", a["managedObjectId"])),
    ("raised", lambda a: a["alarmRaisedTime"]),
    ("cleared", lambda a: a.get("alarmClearedTime", "")),
    ("ack", lambda a: a["ackState"]),
    ("cause", _root),
]


@app.command("list")
def list_alarms(
    ctx: typer.Context,
    severity: Annotated[
        list[Severity] | None,
        typer.Option(
            help="only alarms of this severity (repeat for several)", case_sensitive=False
        ),
    ] = None,
    site: Annotated[str | None, typer.Option(help="only this site's alarms (name or id)")] = None,
    kind: Annotated[
        list[AlarmKind] | None,
        typer.Option(help="only alarms of this kind (repeat for several)", case_sensitive=False),
    ] = None,
    active: Annotated[
        bool, typer.Option("--active/--all", help="only active alarms, or cleared ones too")
    ] = True,
) -> None:
    """Lists alarms, most severe first, then oldest first."""
    cli = cli_context(ctx)
    params = {}
    if severity:
        params["perceivedSeverity"] = ",".join(s.value for s in severity)
    if kind:
        params["kind"] = ",".join(k.value for k in kind)
    if site:
        params["siteId"] = resolve(cli.client, SITE, site)
    if active:
        params["active"] = "true"
    order = list(Severity)
    found = sorted(
        cli.client.list_all(ALARMS, params),
        key=lambda a: (_rank(order, a["perceivedSeverity"]), a["alarmRaisedTime"], a["id"]),
    )
    show_items(found, COLUMNS, as_json=cli.as_json, title="Alarms")


def _rank(order: list[Severity], severity: str) -> int:
    return next((i for i, s in enumerate(order) if s.value == severity), len(order))


@app.command("show")
def show(ctx: typer.Context, alarm: AlarmRef) -> None:
    """Shows one alarm: its component, times, root cause and correlated alarms."""
    cli = cli_context(ctx)
    alarm_id = resolve(cli.client, ALARM, alarm)
    show_item(cli.client.get_json(f"{ALARMS}/{alarm_id}"), as_json=cli.as_json)


@app.command("ack")
def acknowledge(ctx: typer.Context, alarm: AlarmRef) -> None:
    """Acknowledges an alarm (an error if it already is) and shows it."""
    cli = cli_context(ctx)
    alarm_id = resolve(cli.client, ALARM, alarm)
    body = json.dumps({"ackState": "ACKNOWLEDGED"}).encode()
    cli.client.request("PATCH", f"{ALARMS}/{alarm_id}", content=body, headers=MERGE_PATCH)
    show_item(cli.client.get_json(f"{ALARMS}/{alarm_id}"), as_json=cli.as_json)
