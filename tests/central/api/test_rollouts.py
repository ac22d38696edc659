"""Rollouts over the API: waves of batch-size sites, each with its own NS instance, a pause when
too many fail, resume with a fresh budget, abort, and the live view."""

from __future__ import annotations

import time
from typing import Any

from tests.central.api.conftest import Caller, Central
from tests.central.api.test_catalog import NSD_YAML, onboard_nsd
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
    central.bring_online(ids.values())
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
    assert (
        paused["reason"] == "1 site(s) failed (eu-1); at most 0 may fail before the rollout pauses"
    )
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


def second_version(default_action: str = "accept") -> bytes:
    """The sample NSD as its version 2.0: the same invariant id, another nsdId and firewall."""
    text = NSD_YAML.decode()
    for old, new in (
        ("5b2d6f3e-7c8a-4d1e-9f00-edgewise0001", "5b2d6f3e-7c8a-4d1e-9f00-edgewise0002"),
        ('version: "1.0"', 'version: "2.0"'),
        ("default_action: drop", f"default_action: {default_action}"),
    ):
        assert old in text
        text = text.replace(old, new)
    return text.encode()


def test_a_rollout_of_a_new_nsd_version_updates_the_sites_instances(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    first = onboard_nsd(central, central.admin)
    sites = fleet(central, acme, eu=3)
    body = {"name": "vcpe", "nsdId": first, "labels": "region=eu", "batchSize": 3}
    made = client.post(ROLLOUTS, json=body, headers=acme.headers)
    assert made.status_code == 201, made.text
    run_until(central, acme, made.json()["id"], sites, {"COMPLETED"})
    before = {i["id"]: i for i in client.get("/nslcm/v1/ns_instances", headers=acme.headers).json()}

    second = onboard_nsd(central, central.admin, second_version())
    upgrade = client.post(ROLLOUTS, json=body | {"nsdId": second}, headers=acme.headers)
    assert upgrade.status_code == 201, upgrade.text  # the old version's slots are reused
    view = run_until(central, acme, upgrade.json()["id"], sites, {"COMPLETED"})
    assert view["sites"]["DONE"] == 3
    after = client.get("/nslcm/v1/ns_instances", headers=acme.headers).json()
    assert {i["id"] for i in after} == set(before)  # the same NS instances, not new ones
    assert {i["nsdInfoId"] for i in after} == {second}
    assert {i["nsdId"] for i in after} == {"5b2d6f3e-7c8a-4d1e-9f00-edgewise0002"}
    for site_id in sites.values():
        (entry,) = desired(central, acme, site_id)["document"]["services"]
        firewall = next(v for v in entry["vnfs"] if v["name"] == "firewall")
        assert firewall["config"]["default_action"] == "accept"
    ops = client.get("/nslcm/v1/ns_lcm_op_occs", headers=acme.headers).json()
    updates = [o for o in ops if o["lcmOperationType"] == "UPDATE"]
    assert len(updates) == 3
    assert {o["operationParams"]["updateType"] for o in updates} == {"ASSOC_NEW_NSD_VERSION"}
    usage = {
        nsd: client.get(f"/nsd/v1/ns_descriptors/{nsd}", headers=acme.headers).json()[
            "nsdUsageState"
        ]
        for nsd in (first, second)
    }
    assert usage == {first: "NOT_IN_USE", second: "IN_USE"}

    again = client.post(ROLLOUTS, json=body | {"nsdId": second}, headers=acme.headers)
    assert again.status_code == 201, again.text
    done = run_until(central, acme, again.json()["id"], sites, {"COMPLETED"})
    assert done["sites"]["DONE"] == 3  # already of that version: nothing was sent
    assert len(client.get("/nslcm/v1/ns_lcm_op_occs", headers=acme.headers).json()) == len(ops)


def test_sites_already_running_the_nsd_are_done_at_once_even_when_full(central: Central) -> None:
    """The README's promise: a second rollout of the same NSD finds every site DONE, although
    the NS fills each site's two VNF slots (its own slots are not counted against it)."""
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    sites = fleet(central, acme, eu=2)
    body = {"name": "vcpe", "nsdId": nsd, "labels": "region=eu", "batchSize": 2}
    first = client.post(ROLLOUTS, json=body, headers=acme.headers).json()["id"]
    run_until(central, acme, first, sites, {"COMPLETED"})
    for caller in (acme, central.admin):  # the tenant again, then the provider over its sites
        again = client.post(ROLLOUTS, json=body | {"name": "again"}, headers=caller.headers)
        assert again.status_code == 201, again.text
        assert again.json()["total"] == 2
        done = run_until(central, caller, again.json()["id"], sites, {"COMPLETED"})
        assert done["sites"]["DONE"] == 2
    assert len(client.get("/nslcm/v1/ns_instances", headers=acme.headers).json()) == 2


def test_a_failed_site_retried_to_completion_counts_as_done_after_resume(
    central: Central,
) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    sites = fleet(central, acme, eu=2)
    made = client.post(
        ROLLOUTS,
        json={"name": "r", "nsdId": nsd, "labels": "region=eu", "batchSize": 1, "maxFailures": 0},
        headers=acme.headers,
    )
    rollout = made.json()["id"]
    paused = run_until(central, acme, rollout, sites, {"PAUSED"}, frozenset({"eu-0"}))
    assert "eu-0" in paused["reason"], paused["reason"]
    (failure,) = paused["failed"]
    assert failure["siteName"] == "eu-0"
    op = f"/nslcm/v1/ns_lcm_op_occs/{failure['nsLcmOpOccId']}"
    assert client.post(f"{op}/retry", headers=acme.headers).status_code == 202
    answer_sites(central, acme, {"eu-0": sites["eu-0"]}, set())
    deadline = time.monotonic() + 20
    while client.get(op, headers=acme.headers).json()["operationState"] != "COMPLETED":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert client.post(f"{ROLLOUTS}/{rollout}/resume", headers=acme.headers).status_code == 200
    final = run_until(central, acme, rollout, sites, {"COMPLETED"})
    assert final["sites"] == {"PENDING": 0, "RUNNING": 0, "DONE": 2, "FAILED": 0, "SKIPPED": 0}
