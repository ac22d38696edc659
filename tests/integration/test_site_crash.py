"""A site controller SIGKILLed after its journal stored a new revision, before it was applied.

Restarted, it applies the stored revision from its journal and converges, and its reports show
exactly one of each service and VNF.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from edgewise.model.desired import DesiredState
from tests.integration.harness import (
    Central,
    JournalView,
    document,
    enroll,
    kill9,
    read_journal,
    start_controller,
    stop,
    wait_for,
)


def assert_one_of_each(status_body: dict[str, Any]) -> None:
    services = Counter(s["id"] for s in status_body["services"])
    assert services == {"vcpe-1": 1}, status_body
    vnfs = Counter(v["name"] for v in status_body["services"][0]["vnfs"])
    assert vnfs == {"fw": 1, "nat": 1}, status_body


def test_site_killed_between_storing_and_applying_converges_without_duplicates(
    central: Central, tmp_path: Path
) -> None:
    site_dir = tmp_path / "site"
    site_id = enroll(central, "crash-site", site_dir)
    journal = site_dir / "journal.db"
    assert central.put_desired(site_id, document(1)) == 1

    # Each change takes 0.5-1.5 s: a wide window between storing and applying.
    controller = start_controller(site_dir, latency=1.0)
    try:
        wait_for(lambda: central.status(site_id)["inSync"], 30, "the site to apply revision 1")
        assert central.put_desired(site_id, document(2)) == 2

        views: list[JournalView] = []

        def stored_not_applied() -> bool:
            views.append(read_journal(journal))
            return views[-1].desired_revision == 2

        deadline = time.monotonic() + 10
        while not stored_not_applied() and time.monotonic() < deadline:
            time.sleep(0.02)
        kill9(controller)
        before = views[-1]
        assert (before.desired_revision, before.received, before.applied) == (2, 2, 1), before
        after_kill = read_journal(journal)
        assert (after_kill.desired_revision, after_kill.applied) == (2, 1), "applied before kill"
        assert central.status(site_id)["appliedRevision"] == 1

        controller = start_controller(site_dir, latency=0.01)
        wait_for(
            lambda: (
                central.status(site_id)["appliedRevision"] == 2
                and central.status(site_id)["inSync"]
            ),
            20,
            "the restarted site to apply revision 2",
        )
    finally:
        stop(controller)

    status = central.status(site_id)
    assert (status["state"], status["detail"]["revision"]) == ("converged", 2)
    assert_one_of_each(status["detail"])
    view = read_journal(journal)
    assert (view.desired_revision, view.received, view.applied) == (2, 2, 2)
    assert view.desired == DesiredState.from_document(2, document(2)).to_document()  # canonical
    statuses = view.items("status")
    assert statuses, "the journal should hold the status reports"
    for body in statuses:
        assert_one_of_each(body)
    assert statuses[-1]["revision"] == 2
    assert statuses[-1]["state"] == "converged"
    assert view.pending == 0
    assert "Traceback" not in (site_dir / "controller.log").read_text()
