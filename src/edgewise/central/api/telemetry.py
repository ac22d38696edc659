"""Native API: a WAN link's telemetry history (`/api/v1/sites/{siteId}/links/{name}/history`),
scoped as the site is; the route calls `services.telemetry_history`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from edgewise.central.api.deps import CallerDep, SessionDep, SettingsDep
from edgewise.central.api.schemas import Schema
from edgewise.central.services import telemetry_history as history
from edgewise.central.services.telemetry import Retention

router = APIRouter(prefix="/api/v1", tags=["sd-wan"])


class FigurePublic(Schema):
    min: float
    avg: float
    max: float


class HistoryPointPublic(Schema):
    time: datetime = Field(description="the step's start (UTC)")
    samples: int = Field(description="statuses the site sent in the step")
    state: str = Field(description="the worst state a sample said: down, degraded or up")
    state_share: dict[str, float] = Field(description="per state, its share of the samples")
    latency_ms: FigurePublic | None
    loss_percent: FigurePublic | None
    jitter_ms: FigurePublic | None

    @classmethod
    def of(cls, point: history.Point) -> HistoryPointPublic:
        figures = {
            name: None if f is None else FigurePublic(min=f.low, avg=f.mean, max=f.high)
            for name, f in point.figures.items()
        }
        return cls(
            time=point.time,
            samples=point.samples,
            state=point.state,
            state_share={s: n / point.samples for s, n in point.states.items()},
            latency_ms=figures["latency"],
            loss_percent=figures["loss"],
            jitter_ms=figures["jitter"],
        )


class LinkHistoryPublic(Schema):
    site_id: str
    link: str
    from_: datetime = Field(alias="from", description="the first step's start")
    to: datetime
    step: int = Field(description="seconds per point")
    period: int = Field(description="seconds per bucket read (60, 3600 or 86400)")
    points: list[HistoryPointPublic] = Field(description="steps with samples, oldest first")

    @classmethod
    def of(cls, found: history.LinkHistory) -> LinkHistoryPublic:
        window = found.window
        return cls(
            site_id=found.site_id,
            link=found.link,
            from_=datetime.fromtimestamp(window.begin, UTC),
            to=datetime.fromtimestamp(window.end, UTC),
            step=window.step,
            period=window.period,
            points=[HistoryPointPublic.of(point) for point in found.points],
        )


@router.get("/sites/{siteId}/links/{name}/history", operation_id="readSiteLinkHistory")
def read_site_link_history(
    siteId: str,
    name: str,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    from_: Annotated[
        str | None, Query(alias="from", max_length=64, description="ISO 8601; default: to - 1 day")
    ] = None,
    to: Annotated[str | None, Query(max_length=64, description="ISO 8601; default: now")] = None,
    step: Annotated[
        str | None,
        Query(max_length=16, description="seconds or 5m, 1h, 1d; default: from the range"),
    ] = None,
) -> LinkHistoryPublic:
    """The link's latency, loss and jitter (min/avg/max) and state per step, as the site's
    statuses reported them: minute buckets kept 2 days, hours 35, days 400 by default
    (docs/monitoring.md)."""
    now = datetime.now(UTC)
    window = history.window(from_, to, step, now, Retention(settings.history_retention))
    return LinkHistoryPublic.of(history.read(session, caller, siteId, name, asked=window, now=now))
