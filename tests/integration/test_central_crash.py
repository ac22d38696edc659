"""The central SIGKILLed during a change to 50 sites, then restarted on the same store.

Every site converges on the new revision, and the reports the central holds are exactly the
ones the sites sent: each id in a site's outbox once in `site_report_items`, none lost, none
extra (delivery at least once, effect exactly once).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from edgewise.site.journal import Journal
from edgewise.site.uplink import CentralTrust, enroll
from tests.integration.harness import (
    Central,
    CentralProcess,
    document,
    read_journal,
    read_only,
    stop,
    wait_for,
)

SITES = 50
FLEET = Path(__file__).with_name("site_fleet.py")


async def enroll_all(central: Central, tokens: dict[str, str], work: Path) -> list[Path]:
    """Enrolls every site over the real channel; returns the journals, one per site."""
    trust = CentralTrust(ca_pem=central.ca_file.read_text())
    gate = asyncio.Semaphore(16)

    async def one(site_id: str, token: str) -> Path:
        site_dir = work / site_id
        async with gate:
            identity = await enroll(
                central.southbound, token, trust,
                key_path=site_dir / "site.key", cert_path=site_dir / "site.crt",
                ca_path=site_dir / "ca.crt",
            )  # fmt: skip
        assert identity.site_id == site_id
        with Journal.open(site_dir / "journal.db") as journal:
            journal.save_identity(identity)
        return site_dir / "journal.db"

    return list(await asyncio.gather(*(one(s, t) for s, t in tokens.items())))


def in_sync(central: Central) -> int:
    summary: dict[str, Any] = central.api.get("api/v1/site-status").json()
    return int(summary["inSync"])


def push(central: Central, site_ids: list[str], step: int) -> int:
    written = central.api.post(
        "api/v1/desired-state", json={"siteIds": site_ids, "document": document(step)}
    )
    assert written.status_code == 200, written.text
    revisions = {w["revision"] for w in written.json()}
    assert len(revisions) == 1
    return int(revisions.pop())


@pytest.mark.slow
def test_central_killed_mid_change_sites_converge_and_no_report_is_lost(tmp_path: Path) -> None:
    data_dir = tmp_path / "central"
    data_dir.mkdir()
    process = CentralProcess(data_dir)
    with process.running() as central:
        batch = [
            {"name": f"crash-{i:02d}", "kind": "on-premise", "tenantId": central.tenant_id}
            for i in range(SITES)
        ]
        created = central.api.post("api/v1/sites/batch", json={"sites": batch})
        assert created.status_code == 201, created.text
        tokens = {s["id"]: s["enrollmentToken"]["token"] for s in created.json()}
        site_ids = list(tokens)
        journals = asyncio.run(enroll_all(central, tokens, tmp_path / "sites"))
        assert push(central, site_ids, 1) == 1

        ready = tmp_path / "fleet.ready"
        with (tmp_path / "fleet.log").open("ab") as log:
            fleet = subprocess.Popen(
                [sys.executable, str(FLEET), "--latency", "0.5", "--ready", str(ready),
                 *map(str, journals)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_for(ready.exists, 30, "the fleet to start")
            wait_for(lambda: in_sync(central) == SITES, 40, "every site to apply revision 1")

            # The change: the sites take 0.25-0.75 s to apply it; the central dies meanwhile.
            assert push(central, site_ids, 2) == 2
            time.sleep(0.2)
            converged_at_kill = in_sync(central)
            process.kill9()
            assert converged_at_kill < SITES, "the kill should land during the change"
            time.sleep(1.0)  # sites fail to poll and report; reports wait in their outboxes
            process.start()
            wait_for(lambda: in_sync(central) == SITES, 40, "every site to apply revision 2")
            statuses = [central.status(site_id) for site_id in site_ids]
            assert {(s["appliedRevision"], s["desiredRevision"]) for s in statuses} == {(2, 2)}
        finally:
            stop(fleet, timeout=30)
        assert fleet.returncode == 0, (tmp_path / "fleet.log").read_text()[-3000:]

    sent: dict[str, set[str]] = {}
    for path in journals:
        view = read_journal(path)
        assert view.pending == 0, f"{path}: {view.pending} reports never acknowledged"
        assert (view.desired_revision, view.applied) == (2, 2)
        sent[path.parent.name] = {item_id for item_id, *_ in view.outbox}
    with read_only(process.database) as db:
        rows = db.execute("SELECT site_id, item_id FROM site_report_items").fetchall()
    received: dict[str, set[str]] = {site_id: set() for site_id in site_ids}
    for site_id, item_id in rows:
        received[site_id].add(item_id)
    assert len(rows) == sum(len(ids) for ids in sent.values()), "reports sent != received"
    assert received == sent
