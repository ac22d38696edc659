"""`edgewise site links SITE --history LINK [--since 7d] [--step 1h]`: a link's telemetry
history from the central (`GET .../links/{name}/history`), a row per step."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import typer

from edgewise.cli.context import CliContext
from edgewise.cli.output import Column, show_item, show_items

SINCE = re.compile(r"(\d{1,5})([mhdw])")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _figure(key: str, part: str) -> Any:
    return lambda point: (point.get(key) or {}).get(part)


def _share(point: dict[str, Any]) -> str:
    share = point["stateShare"]
    return " ".join(f"{s} {share[s]:.0%}" for s in ("up", "degraded", "down") if share.get(s))


HISTORY_COLUMNS: list[Column] = [
    ("time", lambda point: point["time"]),
    ("samples", lambda point: point["samples"]),
    ("state", lambda point: point["state"]),
    ("states", _share),
    ("latency ms min", _figure("latencyMs", "min")),
    ("avg", _figure("latencyMs", "avg")),
    ("max", _figure("latencyMs", "max")),
    ("loss % avg", _figure("lossPercent", "avg")),
    ("max", _figure("lossPercent", "max")),
    ("jitter ms avg", _figure("jitterMs", "avg")),
]


def since(text: str, now: datetime) -> datetime:
    """`90m`, `36h`, `7d`, `2w` before `now`."""
    found = SINCE.fullmatch(text.strip())
    if found is None:
        raise typer.BadParameter(f"{text!r}: a number and a unit (m, h, d, w), e.g. 7d")
    return now - timedelta(**{UNITS[found.group(2)]: int(found.group(1))})


def show_history(
    cli: CliContext, site_id: str, site: str, link: str, *, since_text: str, step: str | None
) -> None:
    params = {"from": since(since_text, datetime.now(UTC)).isoformat()}
    if step is not None:
        params["step"] = step
    found = cli.client.get_json(f"api/v1/sites/{site_id}/links/{link}/history", params)
    if cli.as_json:
        show_item(found, as_json=True)
        return
    title = f"Link {link} of {site}, every {found['step']} s since {found['from']}"
    for point in found["points"]:
        for key in ("latencyMs", "lossPercent", "jitterMs"):
            figures = point.get(key) or {}
            point[key] = {part: round(value, 2) for part, value in figures.items()} or None
    show_items(found["points"], HISTORY_COLUMNS, as_json=False, title=title)
