"""Link telemetry history, written at report intake (`site_channel.record_batches`): the link
figures of every status and counters report become samples in minute buckets, one upsert for a
whole batch of sites.
The periods and their retention are here; rolling up and expiry are `telemetry_rollup`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, case, true
from sqlalchemy.dialects import postgresql, sqlite

from edgewise.central.store.bulk import table_of
from edgewise.central.store.telemetry_tables import LinkHistoryRow
from edgewise.model.links import MAX_LINKS

MINUTE: Final = 60
HOUR: Final = 3600
DAY: Final = 86400
PERIODS: Final = (MINUTE, HOUR, DAY)
FIGURES: Final = (("latency", "latency_ms"), ("loss", "loss_percent"), ("jitter", "jitter_ms"))
STATES: Final = ("up", "degraded", "down")
KEY: Final = ("site_id", "link", "period", "start")
MS: Final = 3_600_000  # the highest latency or jitter a report may carry (link_reports.MS)


@dataclass(frozen=True)
class Retention:
    """How long buckets of each period are kept, in days (minute, hour, day)."""

    days: tuple[int, int, int] = (2, 35, 400)  # checked by config (EDGEWISE_HISTORY_RETENTION)

    def seconds(self, period: int) -> int:
        return self.days[PERIODS.index(period)] * DAY


DEFAULT_RETENTION: Final = Retention()


@dataclass
class Bucket:
    """What samples say of one link over one bucket (the columns of a `LinkHistoryRow`)."""

    samples: int = 0
    states: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    figures: dict[str, list[float]] = field(default_factory=dict)

    def add(self, state: str, figures: Mapping[str, float]) -> None:
        self.samples += 1
        self.states[state] = self.states.get(state, 0) + 1
        for name, value in figures.items():
            self.figures.setdefault(name, []).append(value)

    def row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"samples": self.samples, **self.states, "dirty": True}
        for name, _ in FIGURES:
            values = self.figures.get(name, [])
            row[f"{name}_n"] = len(values)
            row[f"{name}_min"] = min(values) if values else None
            row[f"{name}_max"] = max(values) if values else None
            row[f"{name}_sum"] = sum(values) if values else None
        return row


Report = tuple[str, str, datetime, Mapping[str, Any]]  # site id, kind, time, body (validated)


def link_samples(kind: str, body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """What a report says of the site's links, one entry per link (name, state, figures): a
    status's `links` (read whole at intake), or a counters report's `wan.probes` (the probes'
    latest verdicts, sent every 50 s while links are probed; not read at intake, so
    read here: an entry that is not a bounded name, a state and bounded figures is skipped)."""
    if kind == "status":
        return list(body.get("links") or ())
    wan = body.get("wan") if kind == "counters" else None
    probes = wan.get("probes") if isinstance(wan, Mapping) else None
    if not isinstance(probes, Mapping):
        return []
    found: list[Mapping[str, Any]] = []
    for name, probed in list(probes.items())[:MAX_LINKS]:
        if not (isinstance(name, str) and 0 < len(name) <= 64 and isinstance(probed, Mapping)):
            continue
        if probed.get("state") not in STATES:
            continue
        entry = {"name": name, "state": probed["state"]}
        for _, key in FIGURES:
            value = probed.get(key)
            if isinstance(value, int | float) and _bounded(value, MS if "ms" in key else 100):
                entry[key] = float(value)
        found.append(entry)
    return found


def _bounded(value: float, high: float) -> bool:
    return not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= high


def minute_buckets(reports: Iterable[Report]) -> list[dict[str, Any]]:
    """The minute buckets these reports make, one row per site, link and minute, sorted by
    key (concurrent writers lock rows in one order). A late report lands in its old bucket
    (rolled up again, expired in turn)."""
    buckets: dict[tuple[str, str, int], Bucket] = {}
    for site_id, kind, at, body in reports:
        moment = int(at.timestamp())
        start = moment - moment % MINUTE
        for link in link_samples(kind, body):
            state = link.get("state")
            figures = {name: float(link[key]) for name, key in FIGURES if link.get(key) is not None}
            bucket = buckets.setdefault((site_id, link["name"], start), Bucket())
            bucket.add(state if state in STATES else "down", figures)
    return [
        {"site_id": site, "link": link, "period": MINUTE, "start": start, **bucket.row()}
        for (site, link, start), bucket in sorted(buckets.items())
    ]


def record_links(connection: Connection, reports: Sequence[Report]) -> int:
    """Adds the reports' link figures to their minute buckets: one upsert statement for the
    whole batch (executemany). Returns how many buckets it wrote."""
    rows = minute_buckets(reports)
    if rows:
        connection.execute(upsert(connection, merge=True), rows)
    return len(rows)


def upsert(connection: Connection, *, merge: bool) -> Any:
    """INSERT ... ON CONFLICT of link history rows, in the connection's dialect: `merge` adds
    the new samples to a bucket's (intake); otherwise the new row replaces it (a rollup
    recomputes a bucket whole)."""
    table = table_of(LinkHistoryRow)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    new, old = statement.excluded, table.c
    if not merge:
        values = {c.name: new[c.name] for c in table.columns if c.name not in KEY}
        return statement.on_conflict_do_update(index_elements=list(KEY), set_=values)
    values = {name: old[name] + new[name] for name in ("samples", *STATES)}
    for figure, _ in FIGURES:
        n, low, high, total = (f"{figure}_{part}" for part in ("n", "min", "max", "sum"))
        values[n] = old[n] + new[n]
        values[low] = _either(old[low], new[low], old[low] < new[low], old[low], new[low])
        values[high] = _either(old[high], new[high], old[high] > new[high], old[high], new[high])
        values[total] = _either(old[total], new[total], true(), old[total] + new[total], None)
    values["dirty"] = true()
    return statement.on_conflict_do_update(index_elements=list(KEY), set_=values)


def _either(old: Any, new: Any, when: ColumnElement[bool], then: Any, other: Any) -> Any:
    """The other one when either is NULL (SQLite's two-argument min() and max() are NULL then,
    and NULL + x is NULL), else `then` if `when`, else `other`."""
    return case((old.is_(None), new), (new.is_(None), old), (when, then), else_=other)
