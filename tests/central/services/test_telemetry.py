"""Link telemetry history: statuses become minute buckets at intake (one upsert per batch,
merged with what a bucket held), the tracker's step rolls closed buckets up into hours and
days (bounded per step, again when a late sample changes a rolled bucket) and expires them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from edgewise.central.config import CentralSettings
from edgewise.central.services import sites, telemetry_history, telemetry_rollup
from edgewise.central.services.site_channel import ReportItem, record_batches
from edgewise.central.services.telemetry import DAY, HOUR, MINUTE, Retention
from edgewise.central.store.telemetry_tables import LinkHistoryRow
from edgewise.model.sites import SiteKind
from tests.central.services.conftest import World

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, on the hour
RETENTION = Retention()


def status(at: datetime, *links: dict[str, Any], item: str | None = None) -> ReportItem:
    body = {"revision": 1, "state": "converged", "links": list(links)}
    return ReportItem(item or f"s-{at.timestamp()}-{id(links)}", "status", at, body)


def mpls(state: str = "up", **figures: float) -> dict[str, Any]:
    return {"name": "mpls", "state": state, **figures}


def rows(world: World, period: int) -> dict[tuple[str, str, int], LinkHistoryRow]:
    world.session.expire_all()
    found = world.session.scalars(select(LinkHistoryRow).where(LinkHistoryRow.period == period))
    return {(r.site_id, r.link, r.start): r for r in found}


def new_sites(world: World, *names: str) -> list[str]:
    made = [
        sites.create_site(world.session, world.acme, sites.SiteSpec(n, SiteKind.ON_PREMISE)).id
        for n in names
    ]
    world.session.commit()
    return made


def step(world: World, now: datetime) -> telemetry_rollup.StepDone:
    done = telemetry_rollup.step(world.session, now, RETENTION)
    world.session.commit()
    return done


def test_statuses_become_minute_buckets_merged_across_batches(world: World) -> None:
    a, b = new_sites(world, "a", "b")
    t = int(T0.timestamp())
    record_batches(
        world.session,
        [
            (a, [status(T0, mpls(latency_ms=10, loss_percent=0, jitter_ms=1), {"name": "lte",
                                                                                "state": "down"}),
                 status(T0 + timedelta(seconds=30), mpls("degraded", latency_ms=30)),
                 status(T0 + timedelta(seconds=61), mpls(latency_ms=12))]),
            (b, [status(T0 + timedelta(seconds=5), mpls(latency_ms=50))]),
        ],
    )  # fmt: skip
    world.session.commit()
    got = rows(world, MINUTE)
    assert set(got) == {(a, "mpls", t), (a, "lte", t), (a, "mpls", t + 60), (b, "mpls", t)}
    first = got[(a, "mpls", t)]
    assert (first.samples, first.up, first.degraded, first.down) == (2, 1, 1, 0)
    assert (first.latency_n, first.latency_min, first.latency_max) == (2, 10, 30)
    assert first.latency_sum == 40
    assert (first.loss_n, first.loss_min, first.jitter_max) == (1, 0, 1)
    assert got[(a, "lte", t)].down == 1
    assert got[(a, "lte", t)].latency_min is None
    # a later batch adds to the bucket: counts add, min and max move, a missing figure is no 0
    record_batches(
        world.session,
        [(a, [status(T0 + timedelta(seconds=40), mpls("down", latency_ms=5)),
              status(T0 + timedelta(seconds=50), {"name": "lte", "state": "up",
                                                   "latency_ms": 70})])],
    )  # fmt: skip
    world.session.commit()
    got = rows(world, MINUTE)
    first, lte = got[(a, "mpls", t)], got[(a, "lte", t)]
    assert (first.samples, first.down, first.latency_min, first.latency_max) == (3, 1, 5, 30)
    assert first.latency_sum == 45
    assert (first.loss_n, first.loss_sum) == (1, 0)
    assert (lte.samples, lte.latency_n, lte.latency_min, lte.latency_sum) == (2, 1, 70, 70)
    # a duplicate item (delivery is at least once) is no second sample
    again = status(T0 + timedelta(seconds=55), mpls(latency_ms=99), item="dup")
    record_batches(world.session, [(b, [again]), (b, [again])])
    world.session.commit()
    assert rows(world, MINUTE)[(b, "mpls", t)].samples == 2


def test_closed_hours_and_days_roll_up_and_again_when_a_late_sample_lands(world: World) -> None:
    (a,) = new_sites(world, "a")
    t = int(T0.timestamp())
    record_batches(
        world.session,
        [(a, [status(T0 + timedelta(minutes=m), mpls(latency_ms=10 + m, loss_percent=m))
              for m in range(0, 60, 10)])],
    )  # fmt: skip
    world.session.commit()
    assert step(world, T0 + timedelta(minutes=61)) == telemetry_rollup.StepDone()  # in grace
    assert step(world, T0 + timedelta(hours=1, seconds=telemetry_rollup.GRACE + 1)).rolled == 1
    hour = rows(world, HOUR)[(a, "mpls", t)]
    assert (hour.samples, hour.up, hour.latency_n) == (6, 6, 6)
    assert (hour.latency_min, hour.latency_max, hour.latency_sum) == (10, 60, 210)
    assert (hour.loss_min, hour.loss_max) == (0, 50)
    assert hour.dirty  # for the day's rollup
    assert not any(r.dirty for r in rows(world, MINUTE).values())
    assert step(world, T0 + timedelta(hours=2)) == telemetry_rollup.StepDone()  # nothing new
    # a status that arrives late for that hour: its minute and then its hour are recomputed
    record_batches(world.session, [(a, [status(T0 + timedelta(minutes=5), mpls("down"))])])
    world.session.commit()
    step(world, T0 + timedelta(hours=2))
    hour = rows(world, HOUR)[(a, "mpls", t)]
    assert (hour.samples, hour.down, hour.latency_n) == (7, 1, 6)
    day_start = t - t % DAY
    assert rows(world, DAY) == {}  # the day is not over
    step(world, datetime.fromtimestamp(day_start + DAY + telemetry_rollup.GRACE + 1, UTC))
    day = rows(world, DAY)[(a, "mpls", day_start)]
    assert (day.samples, day.latency_max, day.down, day.dirty) == (7, 60, 1, False)


def test_a_step_rolls_a_bounded_number_of_sites(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"s{n}" for n in range(3)]
    ids = new_sites(world, *names)
    record_batches(world.session, [(s, [status(T0, mpls(latency_ms=1))]) for s in ids])
    world.session.commit()
    monkeypatch.setattr(telemetry_rollup, "SITES_PER_STEP", 2)
    later = T0 + timedelta(hours=2)
    assert [step(world, later).rolled for _ in range(3)] == [2, 1, 0]
    assert len(rows(world, HOUR)) == 3


def test_buckets_expire_after_their_retention_a_few_buckets_per_step(world: World) -> None:
    (a,) = new_sites(world, "a")
    record_batches(
        world.session,
        [(a, [status(T0 + timedelta(minutes=m), mpls(latency_ms=1)) for m in range(15)])],
    )
    world.session.commit()
    step(world, T0 + timedelta(hours=2))  # rolled up into the hour
    kept = T0 + timedelta(days=RETENTION.days[0], minutes=14, seconds=30)
    done = step(world, kept)
    assert done.expired == telemetry_rollup.EXPIRED_BUCKETS_PER_STEP
    assert step(world, kept).expired == 4  # the rest but the youngest (within retention)
    assert len(rows(world, MINUTE)) == 1
    assert len(rows(world, HOUR)) == 1
    assert step(world, T0 + timedelta(days=RETENTION.days[1] + 1)).expired == 2
    assert rows(world, MINUTE) == rows(world, HOUR) == {}


def test_retention_setting_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CentralSettings.from_environment().history_retention == (2, 35, 400)
    monkeypatch.setenv("EDGEWISE_HISTORY_RETENTION", "1, 7,30")
    assert CentralSettings.from_environment().history_retention == (1, 7, 30)
    assert Retention((1, 7, 30)).seconds(HOUR) == 7 * DAY
    for bad in ("2,35", "2,x,400", "3,2,400", "0,35,400"):
        monkeypatch.setenv("EDGEWISE_HISTORY_RETENTION", bad)
        with pytest.raises(ValueError, match="EDGEWISE_HISTORY_RETENTION"):
            CentralSettings.from_environment()


@pytest.mark.parametrize(
    ("hours", "step", "period"),
    [
        (1, 60, MINUTE),
        (24, 300, MINUTE),
        (48, 900, MINUTE),
        (7 * 24, 3600, HOUR),  # minute buckets are not kept a week
        (30 * 24, 3 * 3600, HOUR),
        (400 * 24, 7 * DAY, DAY),
    ],
)
def test_the_step_follows_the_range(hours: int, step: int, period: int) -> None:
    now = T0
    begin = (now - timedelta(hours=hours)).isoformat()
    got = telemetry_history.window(begin, None, None, now, RETENTION)
    assert (got.step, got.period) == (step, period)
    assert got.begin % step == 0
    assert (got.end - got.begin) / step <= telemetry_history.TARGET_POINTS + 1


def test_counters_reports_probe_figures_are_samples_and_bad_entries_are_skipped(
    world: World,
) -> None:
    (a,) = new_sites(world, "a")
    probes = {
        "mpls": {"state": "up", "latency_ms": 12.5, "loss_percent": 0.5, "jitter_ms": 1},
        "lte": {"state": "degraded", "latency_ms": float("inf"), "loss_percent": 400},
        "x" * 65: {"state": "up"},  # no name a link may have
        "odd": {"state": "sideways"},
        "list": ["up"],
    }
    body = {"services": {}, "wan": {"probes": probes, "classes": {}}}
    items = [ReportItem("c1", "counters", T0, body), ReportItem("c2", "counters", T0, {})]
    record_batches(world.session, [(a, items)])
    world.session.commit()
    got = rows(world, MINUTE)
    t = int(T0.timestamp())
    assert set(got) == {(a, "mpls", t), (a, "lte", t)}
    assert (got[(a, "mpls", t)].latency_sum, got[(a, "mpls", t)].loss_max) == (12.5, 0.5)
    lte = got[(a, "lte", t)]
    assert (lte.degraded, lte.latency_n, lte.loss_n, lte.jitter_n) == (1, 0, 0, 0)


def test_the_rollups_lookup_of_changed_buckets_is_an_index_lookup(world: World) -> None:
    """Run on every tracker pass: it must not scan the minute buckets (SQLite used the partial
    index only once its predicate read as the queries test it: `dirty = 1`)."""
    connection = world.session.connection()
    query = telemetry_rollup.oldest_dirty(MINUTE, 10**9)
    sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
    else:
        plan = " ".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_link_history_dirty" in plan, plan
