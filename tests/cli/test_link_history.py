"""`edgewise site links SITE --history LINK [--since] [--step]` against a real central process:
a row per step of the link's history, JSON with --json, bad options named in one line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from edgewise.central.services.site_channel import ReportItem, record_batches
from edgewise.central.store.engine import open_engine, session_factory
from edgewise.central.store.tables import SiteRow
from edgewise.lab.central import free_port, local_central
from tests.cli.test_operator import as_json, edgewise, ok


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("central")
    state = tmp_path_factory.mktemp("state")
    with local_central(data_dir, free_port(), env={"XDG_STATE_HOME": str(state)}) as url:
        token = (data_dir / "admin.token").read_text().strip()
        env = {"EDGEWISE_CENTRAL": url, "EDGEWISE_TOKEN": token}
        ok("tenant", "add", "acme", env=env)
        ok("site", "add", "branch-1", "--tenant", "acme", env=env)
        ok("site", "link", "add", "branch-1", "mpls", "--kind", "mpls", "--interface", "wan0",
           "--address", "192.0.2.2/30", "--gateway", "192.0.2.1", env=env)  # fmt: skip
        engine = open_engine(f"sqlite:///{data_dir / 'edgewise.db'}")
        hours_ago = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        items = [
            ReportItem(f"s{n}-{m}", "status", hours_ago - timedelta(hours=n, minutes=-m),
                       {"links": [{"name": "mpls", "state": "up", "latency_ms": 20 + n}]})
            for n in range(2, 5) for m in (10, 20)
        ]  # fmt: skip
        with session_factory(engine).begin() as session:
            site = session.scalars(select(SiteRow.id).where(SiteRow.name == "branch-1")).one()
            record_batches(session, [(site, items)])
        engine.dispose()
        yield env


def test_history_rows_per_step(central: dict[str, str]) -> None:
    deadline = time.monotonic() + 20  # the central's tracker rolls the closed hours up, one a step
    while True:
        table = ok("site", "links", "branch-1", "--history", "mpls", "--since", "7d", env=central)
        if len(table.splitlines()) >= 5 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    lines = table.splitlines()
    assert lines[0].startswith("Link mpls of branch-1, every 3600 s since ")
    assert lines[1].split()[:4] == ["TIME", "SAMPLES", "STATE", "STATES"]
    assert len(lines) == 2 + 3  # three hours with samples
    assert lines[2].split()[1:4] == ["2", "up", "up"]
    found = as_json("site", "links", "branch-1", "--history", "mpls", "--step", "1h", env=central)
    assert [p["latencyMs"]["avg"] for p in found["points"]] == [24, 23, 22]
    assert found["step"] == 3600


def test_bad_options_are_named(central: dict[str, str]) -> None:
    done = edgewise("site", "links", "branch-1", "--history", "mpls", "--since", "soon",
                    env=central)  # fmt: skip
    assert done.returncode != 0
    assert "'soon': a number and a unit" in done.stderr
    done = edgewise("site", "links", "branch-1", "--history", "mpls", "--step", "7s", env=central)
    assert done.returncode != 0
    assert "step" in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2, done.stderr
