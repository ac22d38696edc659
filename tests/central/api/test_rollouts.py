"""Rollouts over the API: waves of batch-size sites, each with its own NS instance, a pause when
too many fail, resume with a fresh budget, abort, and the live view."""

from __future__ import annotations

import time
from typing import Any

from tests.central.api.conftest import Caller, Central
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_nslcm import desired, report

ROLLOUTS = "/api/v1/rollouts"


def fleet(central: Central, caller: Caller, **regions: int) -> dict[str, str]:
    """{site name: id}: `count` on-premise sites per region."""
    ids = {}
    for region, count in regions.items():
        for index in range(count):
            made = central.client.post(
                "/api/v1/sites",
                json={"name": f"{region}-{index}", "kind": "on-premise",
                      "labels": {"region": region}},
                headers=caller.headers,
            )  # fmt: skip
            assert made.status_code == 201, made.text
            ids[made.json()["name"]] = made.json()["id"]
    return ids


def answer_sites(
    central: Central, caller: Caller, sites: dict[str, str], failing: set[str]
) -> None:
    """Every site that has a new revision reports it: ready, or failed for `failing`."""
    for name, site_id in sites.items():
        current = desired(central, caller, site_id)
        services = current["document"]["services"]
        if current["revision"] and services:
            state = "failed" if name in failing else "ready"
            report(central, site_id, current["revision"],
                   [{"id": s["id"], "state": state, "vnfs": []} for s in services])  # fmt: skip


def run_until(
    central: Central, caller: Caller, rollout: str, sites: dict[str, str], states: set[str],
    failing: frozenset[str] = frozenset(),
) -> dict[str, Any]:  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        view: dict[str, Any] = central.client.get(
            f"{ROLLOUTS}/{rollout}", headers=caller.headers
        ).json()
        if view["state"] in states or time.monotonic() > deadline:
            assert view["state"] in states, view
            return view
        answer_sites(central, caller, sites, set(failing))
        time.sleep(0.2)


def test_a_rollout_goes_wave_by_wave_one_ns_per_site(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    sites = fleet(central, acme, eu=5, us=1)
    made = client.post(ROLLOUTS, json={"name": "vcpe", "nsdId": nsd, "labels": "region=eu",
                                       "batchSize": 2}, headers=acme.headers)  # fmt: skip
    assert made.status_code == 201, made.text
    view = made.json()
    assert (view["state"], view["total"], view["waves"]) == ("RUNNING", 5, 3)
    assert view["notChosen"] == [
        {
            "siteId": sites["us-0"],
            "siteName": "us-0",
            "reason": "labels do not match region=eu (has region=us)",
        }
    ]
    deadline = time.monotonic() + 20
    while view["state"] == "RUNNING" and time.monotonic() < deadline:
        view = client.get(f"{ROLLOUTS}/{view['id']}", headers=acme.headers).json()
        assert view["sites"]["RUNNING"] <= 2  # never more than a batch at once
        answer_sites(central, acme, sites, set())
        time.sleep(0.1)
    assert view["state"] == "COMPLETED", view
    assert view["sites"] == {"PENDING": 0, "RUNNING": 0, "DONE": 5, "FAILED": 0, "SKIPPED": 0}
    assert view["wave"] == 3
    instances = client.get("/nslcm/v1/ns_instances", headers=acme.headers).json()
    assert len(instances) == 5
    assert {i["nsState"] for i in instances} == {"INSTANTIATED"}
    assert sorted(i["nsInstanceName"] for i in instances) == [f"vcpe-eu-{n}" for n in range(5)]
    assert desired(central, acme, sites["us-0"])["revision"] == 0


def test_failures_pause_the_rollout_then_resume_and_abort(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    sites = fleet(central, acme, eu=6)
    made = client.post(
        ROLLOUTS,
        json={"name": "r", "nsdId": nsd, "labels": "region=eu", "batchSize": 2, "maxFailures": 0},
        headers=acme.headers,
    )
    rollout = made.json()["id"]  # fmt: skip
    paused = run_until(central, acme, rollout, sites, {"PAUSED"}, frozenset({"eu-1"}))
    assert paused["reason"] == "1 site(s) failed; at most 0 may fail before the rollout pauses"
    assert [f["siteName"] for f in paused["failed"]] == ["eu-1"]
    assert paused["sites"]["PENDING"] == 4
    assert client.post(f"{ROLLOUTS}/{rollout}/resume", headers=acme.headers).status_code == 200
    again = client.post(f"{ROLLOUTS}/{rollout}/resume", headers=acme.headers)
    assert again.status_code == 409
    assert "RUNNING" in again.json()["detail"]
    deadline = time.monotonic() + 20  # the sites do not answer: the second wave stays RUNNING
    while client.get(f"{ROLLOUTS}/{rollout}", headers=acme.headers).json()["wave"] < 2:
        assert time.monotonic() < deadline, "the second wave never started"
        time.sleep(0.1)
    assert client.post(f"{ROLLOUTS}/{rollout}/abort", headers=acme.headers).status_code == 200
    final = client.get(f"{ROLLOUTS}/{rollout}", headers=acme.headers).json()
    assert final["state"] == "ABORTED"
    assert final["sites"] == {"PENDING": 0, "RUNNING": 2, "DONE": 1, "FAILED": 1, "SKIPPED": 2}


def test_a_rollout_with_no_site_to_go_to_says_why(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    fleet(central, acme, us=1)
    refused = client.post(ROLLOUTS, json={"name": "r", "nsdId": nsd, "labels": "region=eu"},
                          headers=acme.headers)  # fmt: skip
    assert refused.status_code == 400
    assert "us-0: labels do not match region=eu" in refused.text
