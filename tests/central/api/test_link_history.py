"""GET /api/v1/sites/{siteId}/links/{name}/history: a link's figures and state per step from
the history store, the step chosen from the range (minute buckets for a day, hours for a week,
the open hour from its minutes), every bad parameter a 400 naming it, scoped as the site is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edgewise.central.services import telemetry_rollup
from edgewise.central.services.site_channel import ReportItem, record_batches
from edgewise.central.services.telemetry import DEFAULT_RETENTION
from tests.central.api.conftest import Caller, Central
from tests.central.api.sdwan import MPLS, new_site


def status(at: datetime, **link: Any) -> ReportItem:
    body = {"revision": 1, "state": "converged", "links": [{"name": "mpls", **link}]}
    return ReportItem(f"s-{at.timestamp()}", "status", at, body)


@pytest.fixture
def reported(central: Central) -> tuple[Caller, str, datetime, datetime]:
    """acme's site with link mpls, which reported six statuses an hour five hours ago and one
    (down) half a minute ago; the tracker's step has rolled up what is closed."""
    acme = central.tenant("acme")
    site = new_site(central, acme, "branch", MPLS)
    now = datetime.now(UTC)
    hour = (now - timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
    items = [status(hour + timedelta(minutes=m), state="up", latency_ms=10 + m, loss_percent=0)
             for m in range(0, 60, 10)]  # fmt: skip
    items.append(status(now - timedelta(seconds=30), state="down", latency_ms=100))
    with central.sessions.begin() as session:
        record_batches(session, [(site, items)])
    with central.sessions.begin() as session:
        telemetry_rollup.step(session, datetime.now(UTC), DEFAULT_RETENTION)
    return acme, site, hour, now


def history(central: Central, caller: Caller, site: str, link: str = "mpls", **query: str) -> Any:
    return central.client.get(
        f"/api/v1/sites/{site}/links/{link}/history", params=query, headers=caller.headers
    )


def test_a_day_in_five_minute_steps_from_minute_buckets(
    central: Central, reported: tuple[Caller, str, datetime, datetime]
) -> None:
    acme, site, hour, _ = reported
    answer = history(central, acme, site)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert (got["siteId"], got["link"], got["step"], got["period"]) == (site, "mpls", 300, 60)
    began, ended = datetime.fromisoformat(got["from"]), datetime.fromisoformat(got["to"])
    assert timedelta(days=1) <= ended - began < timedelta(days=1, minutes=5)
    assert began.timestamp() % 300 == 0
    points = got["points"]
    assert len(points) == 7
    first = points[0]
    assert datetime.fromisoformat(first["time"]) == hour
    assert first["latencyMs"] == {"min": 10, "avg": 10, "max": 10}
    assert first["lossPercent"] == {"min": 0, "avg": 0, "max": 0}
    assert first["jitterMs"] is None
    assert (first["samples"], first["state"], first["stateShare"]["up"]) == (1, "up", 1)
    last = points[-1]
    assert (last["state"], last["stateShare"]["down"], last["latencyMs"]["max"]) == ("down", 1, 100)


def test_a_week_in_hours_with_the_open_hour_from_its_minutes(
    central: Central, reported: tuple[Caller, str, datetime, datetime]
) -> None:
    acme, site, hour, now = reported
    week = (now - timedelta(days=7)).isoformat()
    answer = history(central, acme, site, **{"from": week})
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert (got["step"], got["period"]) == (3600, 3600)
    rolled, recent = got["points"]
    assert datetime.fromisoformat(rolled["time"]) == hour
    assert rolled["samples"] == 6
    assert rolled["latencyMs"] == {"min": 10, "avg": 35, "max": 60}
    assert (recent["samples"], recent["state"]) == (1, "down")  # not rolled up yet: minutes
    daily = history(central, acme, site, **{"from": week, "step": "1d"}).json()
    assert daily["period"] == 86400
    assert sum(p["samples"] for p in daily["points"]) == 7
    assert max(p["latencyMs"]["max"] for p in daily["points"]) == 100


def test_every_bad_parameter_is_named(
    central: Central, reported: tuple[Caller, str, datetime, datetime]
) -> None:
    acme, site, _, now = reported
    old = (now - timedelta(days=3)).isoformat()
    cases = [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-01-01T00:00:00"}, "to"),  # no zone
        ({"from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()}, "from"),
        ({"from": (now - timedelta(days=500)).isoformat()}, "from"),
        ({"to": (now + timedelta(days=2)).isoformat()}, "to"),
        ({"step": "90s"}, "step"),
        ({"step": "soon"}, "step"),
        ({"step": "60", "from": (now - timedelta(hours=47)).isoformat()}, "step"),  # points
        ({"step": "5m", "from": old}, "step"),  # minute buckets are gone that far back
    ]
    for query, named in cases:
        answer = history(central, acme, site, **query)
        assert answer.status_code == 400, (query, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert [p["where"] for p in answer.json()["problems"]] == [named], (query, answer.text)
    assert history(central, acme, site, step="1h", **{"from": old}).status_code == 200


def test_scoped_as_the_site_is(
    central: Central, reported: tuple[Caller, str, datetime, datetime]
) -> None:
    acme, site, _, _ = reported
    globex = central.tenant("globex")
    assert history(central, globex, site).status_code == 404
    assert history(central, central.admin, site).status_code == 200
    missing = history(central, acme, site, link="nope")
    assert missing.status_code == 404
    assert "nope" in missing.json()["detail"]
