"""A link's telemetry history for the API (`GET .../links/{name}/history`): the range and step
read and bounded (each bad parameter named), the buckets of the right period read from the
store (the finer ones where the coarser are not rolled up yet) and merged into points."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import BigInteger, func, literal, select
from sqlalchemy.orm import Session

from edgewise.central.services.access import Principal
from edgewise.central.services.errors import InputProblem, Invalid, NotFound
from edgewise.central.services.sites import get_site
from edgewise.central.services.telemetry import DAY, FIGURES, PERIODS, STATES, Retention
from edgewise.central.services.telemetry_rollup import GRACE
from edgewise.central.store.sdwan_tables import SiteLinkRow
from edgewise.central.store.telemetry_tables import LinkHistoryRow

STEPS: Final = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, DAY, 7 * DAY)
TARGET_POINTS: Final = 300  # an automatic step gives at most this many points
MAX_POINTS: Final = 2000  # a step given gives at most this many
DEFAULT_RANGE: Final = DAY
SLACK: Final = 3600  # s a range may start before a period's retention (clocks, a slow client)
STEP_TEXT: Final = re.compile(r"(\d{1,7})([smhdw]?)")
UNITS: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}


@dataclass(frozen=True)
class Window:
    """The points asked for: buckets from `begin` (Unix seconds, a multiple of `step`) to
    `end`, each point `step` seconds of buckets of `period`."""

    begin: int
    end: int
    step: int
    period: int


@dataclass(frozen=True)
class Figure:
    low: float
    mean: float
    high: float


@dataclass(frozen=True)
class Point:
    """One step of a link's history: how many samples, how many said each state, and the
    figures' min/avg/max over the samples that carried them."""

    time: datetime
    samples: int
    states: Mapping[str, int]
    figures: Mapping[str, Figure | None]

    @property
    def state(self) -> str:
        """The worst state a sample said."""
        return next((s for s in ("down", "degraded") if self.states.get(s)), "up")


@dataclass(frozen=True)
class LinkHistory:
    site_id: str
    link: str
    window: Window
    points: tuple[Point, ...]


def window(
    frm: str | None, to: str | None, step: str | None, now: datetime, retention: Retention
) -> Window:
    """The range and step asked for, bounded; Invalid names every bad parameter."""
    problems: list[InputProblem] = []
    moment = int(now.timestamp())
    end = _moment(to, "to", problems) if to is not None else moment
    begin = _moment(frm, "from", problems) if frm is not None else None
    if end is not None and end > moment + DAY:
        problems.append(InputProblem("to", "is more than a day from now"))
    if problems or end is None:
        raise Invalid("the history's range is not valid", problems)
    begin = end - DEFAULT_RANGE if begin is None else begin
    longest = retention.seconds(DAY)
    if begin >= end:
        problems.append(InputProblem("from", "must be before `to`"))
    elif begin < moment - longest - SLACK:
        problems.append(InputProblem("from", f"history is kept {longest // DAY} days"))
    if problems:
        raise Invalid("the history's range is not valid", problems)
    if step is None:
        fits = (s for s in STEPS if (end - begin) / s <= TARGET_POINTS)
        chosen = next((s for s in fits if _covers(s, begin, moment, retention)), STEPS[-1])
        return _window(begin, end, chosen)
    seconds = _step(step)
    if (end - begin) / seconds > MAX_POINTS:
        points = (end - begin) // seconds
        raise Invalid(
            "too many points",
            [InputProblem("step", f"{step}: {points} points over the range; at most {MAX_POINTS}")],
        )
    if not _covers(seconds, begin, moment, retention):
        period = _period(seconds)
        kept = retention.seconds(period) // DAY
        raise Invalid(
            "the range starts before what this step reads is kept",
            [
                InputProblem(
                    "step",
                    f"{period}-second buckets are kept {kept} days: a range that old needs a "
                    f"step of at least {_coarser(period)} seconds",
                )
            ],
        )
    return _window(begin, end, seconds)


def read(
    session: Session, principal: Principal, site_id: str, link: str, *, asked: Window, now: datetime
) -> LinkHistory:
    """The link's points over the window (steps without a sample have no point); 404 when the
    caller does not see the site, or it has neither such a link nor history of one."""
    get_site(session, principal, site_id)
    h = LinkHistoryRow
    known = session.get(SiteLinkRow, (site_id, link)) is not None or session.scalar(
        select(h.start).where(h.site_id == site_id, h.link == link).limit(1)
    )
    if not known:
        raise NotFound(f"site {site_id} has no link {link!r} and no history of one")
    rows: list[Any] = []
    for period, low, high in _parts(asked, int(now.timestamp())):
        span = (max(low, asked.begin), min(high, asked.end))
        rows.extend(_buckets(session, site_id, link, period, span, step=asked.step))
    return LinkHistory(site_id, link, asked, merge(rows))


def merge(rows: Iterable[Mapping[str, Any]]) -> tuple[Point, ...]:
    """Points from grouped buckets (one row per part and step), summed per step, in order."""
    by_time: dict[int, dict[str, Any]] = {}
    for row in rows:
        into = by_time.setdefault(int(row["t"]), {})
        for key, value in row.items():
            if key == "t" or value is None:
                continue
            if key.endswith("_min"):
                into[key] = min(into.get(key, value), value)
            elif key.endswith("_max"):
                into[key] = max(into.get(key, value), value)
            else:
                into[key] = into.get(key, 0) + value
    points = []
    for t, got in sorted(by_time.items()):
        figures: dict[str, Figure | None] = {}
        for name, _ in FIGURES:
            n = got.get(f"{name}_n", 0)
            figures[name] = (
                Figure(got[f"{name}_min"], got[f"{name}_sum"] / n, got[f"{name}_max"])
                if n
                else None
            )
        states = {state: int(got.get(state, 0)) for state in STATES}
        time = datetime.fromtimestamp(t, UTC)
        points.append(Point(time, int(got.get("samples", 0)), states, figures))
    return tuple(points)


def _buckets(
    session: Session, site_id: str, link: str, period: int, span: tuple[int, int], *, step: int
) -> list[Mapping[str, Any]]:
    low, high = span
    if low >= high:
        return []
    h = LinkHistoryRow
    t = (h.start - h.start % literal(step, BigInteger)).label("t")
    columns: list[Any] = [t, func.sum(h.samples).label("samples")]
    columns += [func.sum(getattr(h, state)).label(state) for state in STATES]
    for name, _ in FIGURES:
        columns += [
            func.sum(getattr(h, f"{name}_n")).label(f"{name}_n"),
            func.min(getattr(h, f"{name}_min")).label(f"{name}_min"),
            func.max(getattr(h, f"{name}_max")).label(f"{name}_max"),
            func.sum(getattr(h, f"{name}_sum")).label(f"{name}_sum"),
        ]
    query = (
        select(*columns)
        .where(h.site_id == site_id, h.link == link, h.period == period)
        .where(h.start >= low, h.start < high)
        .group_by(t)
    )
    return [dict(row) for row in session.execute(query).mappings()]


def _parts(asked: Window, moment: int) -> list[tuple[int, int, int]]:
    """(period, from, to) of the buckets to read: the window's period where it is rolled up,
    then each finer one where the coarser is not yet (a bucket closes GRACE after its end)."""
    levels = PERIODS[: PERIODS.index(asked.period) + 1]
    closed = {p: (moment - GRACE) - (moment - GRACE) % p for p in levels}
    parts, high = [], 2**62
    for index, period in enumerate(levels):
        low = closed[levels[index + 1]] if index + 1 < len(levels) else -(2**62)
        parts.append((period, low, high))
        high = low
    return parts


def _window(begin: int, end: int, step: int) -> Window:
    return Window(begin - begin % step, end, step, _period(step))


def _period(step: int) -> int:
    """The coarsest bucket period that divides `step`."""
    return max(p for p in PERIODS if step % p == 0)


def _coarser(period: int) -> int:
    return PERIODS[min(PERIODS.index(period) + 1, len(PERIODS) - 1)]


def _covers(step: int, begin: int, moment: int, retention: Retention) -> bool:
    return begin >= moment - retention.seconds(_period(step)) - SLACK


def _step(text: str) -> int:
    found = STEP_TEXT.fullmatch(text.strip())
    seconds = int(found.group(1)) * UNITS[found.group(2)] if found else 0
    if not PERIODS[0] <= seconds <= STEPS[-1] or seconds % PERIODS[0]:
        message = (
            f"{text!r}: a whole number of minutes from 60 seconds to 7 days, in seconds or "
            "with a unit (300, 5m, 1h, 1d, 1w)"
        )
        raise Invalid("the step is not valid", [InputProblem("step", message)])
    return seconds


def _moment(text: str, name: str, problems: list[InputProblem]) -> int | None:
    try:
        moment = datetime.fromisoformat(text) if len(text) <= 40 else None
    except (ValueError, OverflowError):
        moment = None
    if moment is None or moment.tzinfo is None:
        problems.append(InputProblem(name, f"{text[:40]!r} is not an ISO 8601 time with a zone"))
        return None
    return int(moment.timestamp())
