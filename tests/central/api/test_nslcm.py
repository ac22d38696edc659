"""SOL005 NS life cycle over the API: create, instantiate on sites, follow the operation to
COMPLETED from the sites' reports, terminate, delete; conflicts and bad requests."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.orchestrator import lifecycle, tracker
from edgewise.central.orchestrator.nsds import NsdModels
from edgewise.central.services import site_channel
from edgewise.central.services.access import Principal
from edgewise.central.services.auth import authenticate
from edgewise.central.services.site_channel import ReportItem
from edgewise.model import placement
from tests.central.api.conftest import Caller, Central
from tests.central.api.sol005 import assert_schema, schema
from tests.central.api.test_catalog import onboard_nsd

NS = "/nslcm/v1/ns_instances"
OPS = "/nslcm/v1/ns_lcm_op_occs"
FLAVOUR = "default"


def sessions(central: Central) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = central.client.app.state.sessions  # type: ignore[attr-defined]
    return factory


def add_sites(central: Central, caller: Caller, *names: str) -> list[str]:
    ids = []
    for name in names:
        made = central.client.post(
            "/api/v1/sites", json={"name": name, "kind": "on-premise"}, headers=caller.headers
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    central.bring_online(ids)
    return ids


def report(central: Central, site_id: str, revision: int, services: list[dict[str, Any]]) -> None:
    """What a site controller's status report records (the channel itself is tested elsewhere)."""
    failed = any(s["state"] == "failed" for s in services)
    body = {
        "revision": revision,
        "state": "degraded" if failed else "converged",
        "services": services,
        "error": "firewall: nft said no" if failed else None,
    }
    item = ReportItem(f"{site_id[:8]}-{revision}-{time.monotonic_ns()}", "status",
                      datetime.now(UTC), body)  # fmt: skip
    with sessions(central).begin() as session:
        site_channel.record_reports(session, site_id, [item])


def desired(central: Central, caller: Caller, site_id: str) -> dict[str, Any]:
    answer = central.client.get(f"/api/v1/sites/{site_id}/desired-state", headers=caller.headers)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def follow(central: Central, caller: Caller, location: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        op: dict[str, Any] = central.client.get(location, headers=caller.headers).json()
        if op["operationState"] == state or time.monotonic() > deadline:
            assert op["operationState"] == state, op
            return op
        time.sleep(0.1)


def create_ns(central: Central, caller: Caller, nsd: str, name: str = "vcpe") -> dict[str, Any]:
    made = central.client.post(NS, json={"nsdId": nsd, "nsName": name}, headers=caller.headers)
    assert made.status_code == 201, made.text
    assert made.headers["Location"].endswith(made.json()["id"])
    document: dict[str, Any] = made.json()
    return document


def assert_schema_without_params(op: dict[str, Any]) -> None:
    jsonschema.validate(op, op_occ_schema())


def op_occ_schema() -> dict[str, Any]:
    """ETSI's NsLcmOpOcc schema types operationParams as a string enum (a known slip in the
    published schema; SOL005 says it is the operation's request body): checked without it."""
    loaded = copy.deepcopy(schema("NsLcmOpOcc"))
    del loaded["properties"]["operationParams"]
    return loaded


def test_instantiate_on_sites_completes_from_their_reports_then_terminate(
    central: Central,
) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    first, second = add_sites(central, acme, "paris", "lyon")
    ns = create_ns(central, acme, nsd)
    assert_schema("NsInstance", ns)
    assert ns["nsState"] == "NOT_INSTANTIATED"
    assert (
        client.get(f"nsd/v1/ns_descriptors/{nsd}", headers=acme.headers).json()["nsdUsageState"]
        == "IN_USE"
    )

    started = client.post(
        f"{NS}/{ns['id']}/instantiate",
        json={"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": [first, "lyon"]}},
        headers=acme.headers,
    )
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    op = client.get(location, headers=acme.headers).json()
    assert (op["operationState"], op["lcmOperationType"], op["sitesTotal"]) == (
        "PROCESSING", "INSTANTIATE", 2)  # fmt: skip
    assert_schema_without_params(op)
    for site in (first, second):
        document = desired(central, acme, site)
        (service,) = document["document"]["services"]
        assert service["id"] == ns["id"]
        assert service["tenant"] == acme.tenant_id
        assert [v["function"] for v in service["vnfs"]] == ["firewall", "nat"]
        assert service["chain"] == ["firewall", "nat"]
    again = client.post(
        f"{NS}/{ns['id']}/instantiate", json={"nsFlavourId": FLAVOUR,
        "additionalParamsForNs": {"sites": [first]}}, headers=acme.headers,
    )  # fmt: skip
    assert again.status_code == 409, again.text
    assert "PROCESSING" in again.json()["detail"]

    ready = [{"id": ns["id"], "state": "ready", "vnfs": []}]
    report(central, first, desired(central, acme, first)["revision"], ready)
    time.sleep(0.7)
    assert client.get(location, headers=acme.headers).json()["sitesDone"] == 1
    report(central, second, desired(central, acme, second)["revision"], ready)
    done = follow(central, acme, location, "COMPLETED")
    assert done["sitesDone"] == 2
    instance = client.get(f"{NS}/{ns['id']}", headers=acme.headers).json()
    assert instance["nsState"] == "INSTANTIATED"
    assert sorted(instance["sites"]) == sorted([first, second])
    assert_schema("NsInstance", instance)

    refused = client.delete(f"{NS}/{ns['id']}", headers=acme.headers)
    assert refused.status_code == 409
    assert "terminate it" in refused.json()["detail"]

    ended = client.post(f"{NS}/{ns['id']}/terminate", json={}, headers=acme.headers)
    assert ended.status_code == 202, ended.text
    for site in (first, second):
        assert desired(central, acme, site)["document"]["services"] == []
        report(central, site, desired(central, acme, site)["revision"], [])
    follow(central, acme, ended.headers["Location"], "COMPLETED")
    assert client.get(f"{NS}/{ns['id']}", headers=acme.headers).json()["nsState"] == (
        "NOT_INSTANTIATED"
    )
    listed = client.get(OPS, params={"lcmOperationType": "TERMINATE"}, headers=acme.headers)
    assert [o["lcmOperationType"] for o in listed.json()] == ["TERMINATE"]
    assert client.delete(f"{NS}/{ns['id']}", headers=acme.headers).status_code == 204
    assert (
        client.get(f"nsd/v1/ns_descriptors/{nsd}", headers=acme.headers).json()["nsdUsageState"]
        == "NOT_IN_USE"
    )


def test_a_site_failing_the_service_makes_the_operation_failed_temp(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    good, bad = add_sites(central, acme, "good", "bad")
    ns = create_ns(central, acme, nsd)
    started = client.post(
        f"{NS}/{ns['id']}/instantiate",
        json={"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": [good, bad]}},
        headers=acme.headers,
    )
    report(central, good, desired(central, acme, good)["revision"],
           [{"id": ns["id"], "state": "ready", "vnfs": []}])  # fmt: skip
    report(central, bad, desired(central, acme, bad)["revision"],
           [{"id": ns["id"], "state": "failed", "vnfs": []}])  # fmt: skip
    op = follow(central, acme, started.headers["Location"], "FAILED_TEMP")
    assert op["error"]["status"] == 500
    assert f"site {bad}: firewall: nft said no" in op["error"]["detail"]
    assert good not in op["error"]["detail"]
    assert client.get(f"{NS}/{ns['id']}", headers=acme.headers).json()["nsState"] == (
        "NOT_INSTANTIATED"
    )
    busy = client.post(f"{NS}/{ns['id']}/terminate", json={}, headers=acme.headers)
    assert busy.status_code == 409


def test_an_operation_past_its_deadline_fails_naming_the_silent_sites(central: Central) -> None:
    acme = central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    (quiet,) = add_sites(central, acme, "quiet")
    ns = create_ns(central, acme, nsd)
    with sessions(central).begin() as session:
        principal = nslcm_principal(session, acme)
        op = lifecycle.instantiate(
            session, principal, NsdModels(), ns["id"], flavour_id=FLAVOUR,
            placement=placement.Request(slots=0, sites=(quiet,)), params={},
            timeout=timedelta(seconds=30),
        )  # fmt: skip
        op_id = op.id
    with sessions(central).begin() as session:
        assert tracker.advance(session, NsdModels(), datetime.now(UTC)) == []
        later = datetime.now(UTC) + timedelta(seconds=31)
        assert tracker.advance(session, NsdModels(), later) == [op_id]
    answer = central.client.get(f"{OPS}/{op_id}", headers=acme.headers).json()
    assert answer["operationState"] == "FAILED_TEMP"
    assert "timed out: 1 of 1 sites" in answer["error"]["detail"]
    assert quiet in answer["error"]["detail"]


def nslcm_principal(session: Session, caller: Caller) -> Principal:
    return authenticate(session, caller.headers["Authorization"])


def test_bad_requests_name_what_is_wrong_and_change_nothing(central: Central) -> None:
    client, acme, other = central.client, central.tenant("acme"), central.tenant("other")
    nsd = onboard_nsd(central, central.admin)
    (mine,) = add_sites(central, acme, "mine")
    (theirs,) = add_sites(central, other, "theirs")
    ns = create_ns(central, acme, nsd)
    cases = [
        ({"nsFlavourId": "gold", "additionalParamsForNs": {"sites": [mine]}}, "nsFlavourId"),
        ({"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": []}}, "name the sites"),
        (
            {"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": [mine], "placement": {}}},
            "not both",
        ),
        (
            {"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"placement": {"strategy": "x"}}},
            "additionalParamsForNs.placement.strategy",
        ),
        (
            {"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"placement": {"labels": "a"}}},
            "is not key=value",
        ),
        ({"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": "mine"}}, "sites"),
        ({"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": [theirs]}}, "no such site"),
        ({"additionalParamsForNs": {"sites": [mine]}}, "nsFlavourId"),
    ]
    for body, where in cases:
        answer = client.post(f"{NS}/{ns['id']}/instantiate", json=body, headers=acme.headers)
        assert answer.status_code == 400, (body, answer.text)
        assert where in answer.text, answer.text
    assert desired(central, acme, mine)["revision"] == 0
    assert client.get(OPS, headers=acme.headers).json() == []
    unknown = client.post(NS, json={"nsdId": "nope", "nsName": "x"}, headers=acme.headers)
    assert unknown.status_code == 404
    assert client.get(f"{NS}/{ns['id']}", headers=other.headers).status_code == 404
    assert client.get(NS, headers=other.headers).json() == []


def test_criteria_place_by_labels_and_capacity_and_a_dry_run_says_why(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    for name, labels, nodes in (
        ("eu-1", {"region": "eu"}, 1),
        ("eu-2", {"region": "eu"}, 1),
        ("us-1", {"region": "us"}, 1),
        ("eu-pop", {"region": "eu"}, 3),
    ):
        kind = "cloud" if nodes > 1 else "on-premise"
        made = client.post(
            "/api/v1/sites",
            json={"name": name, "kind": kind, "labels": labels, "computeNodes": nodes},
            headers=acme.headers,
        )
        assert made.status_code == 201, made.text
    central.bring_online()
    first = create_ns(central, acme, nsd, "first")
    criteria = {"labels": "region=eu", "kind": "on-premise"}
    plan = client.post(
        f"{NS}/{first['id']}/placement", json={"placement": criteria}, headers=acme.headers
    ).json()
    assert [c["siteName"] for c in plan["chosen"]] == ["eu-1", "eu-2"]
    reasons = {r["siteName"]: r["reason"] for r in plan["rejected"]}
    assert reasons == {
        "eu-pop": "is cloud, the request wants on-premise",
        "us-1": "labels do not match region=eu (has region=us)",
    }
    assert plan["refusal"] == []
    started = client.post(
        f"{NS}/{first['id']}/instantiate",
        json={"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"placement": criteria}},
        headers=acme.headers,
    )
    assert started.status_code == 202, started.text
    op = client.get(started.headers["Location"], headers=acme.headers).json()
    assert op["sitesTotal"] == 2

    # The vCPE takes both slots of an on-premise site: a second one does not fit there.
    second = create_ns(central, acme, nsd, "second")
    plan = client.post(
        f"{NS}/{second['id']}/placement", json={"sites": ["eu-1"]}, headers=acme.headers
    ).json()
    assert plan["chosen"] == []
    assert plan["refusal"] == ["eu-1: 0 of 2 VNF slots free; the NS needs 2"]
    refused = client.post(
        f"{NS}/{second['id']}/instantiate",
        json={"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": ["eu-1"]}},
        headers=acme.headers,
    )
    assert refused.status_code == 400
    assert "eu-1: 0 of 2 VNF slots free; the NS needs 2" in refused.text
    spread = client.post(
        f"{NS}/{second['id']}/instantiate",
        json={
            "nsFlavourId": FLAVOUR,
            "additionalParamsForNs": {"placement": {"strategy": "spread", "count": 2}},
        },
        headers=acme.headers,
    )
    assert spread.status_code == 202, spread.text
    sites = client.get(f"{NS}/{second['id']}", headers=acme.headers).json()["sites"]
    names = {s["id"]: s["name"] for s in client.get("/api/v1/sites", headers=acme.headers).json()}
    assert sorted(names[s] for s in sites) == ["eu-pop", "us-1"]


def instantiate_on(central: Central, caller: Caller, ns_id: str, *sites: str) -> str:
    started = central.client.post(
        f"{NS}/{ns_id}/instantiate",
        json={"nsFlavourId": FLAVOUR, "additionalParamsForNs": {"sites": list(sites)}},
        headers=caller.headers,
    )
    assert started.status_code == 202, started.text
    location: str = started.headers["Location"]
    return location


def test_failed_temp_is_retried_on_the_failed_sites_only(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    good, bad = add_sites(central, acme, "good", "bad")
    ns = create_ns(central, acme, nsd)
    location = instantiate_on(central, acme, ns["id"], good, bad)
    assert client.post(f"{location}/fail", headers=acme.headers).status_code == 409
    ready = [{"id": ns["id"], "state": "ready", "vnfs": []}]
    report(central, good, desired(central, acme, good)["revision"], ready)
    report(central, bad, desired(central, acme, bad)["revision"],
           [{"id": ns["id"], "state": "failed", "vnfs": []}])  # fmt: skip
    follow(central, acme, location, "FAILED_TEMP")
    revisions = {s: desired(central, acme, s)["revision"] for s in (good, bad)}

    assert client.post(f"{location}/retry", headers=acme.headers).status_code == 202
    op = client.get(location, headers=acme.headers).json()
    assert (op["operationState"], op.get("error")) == ("PROCESSING", None)
    assert desired(central, acme, good)["revision"] == revisions[good]
    assert desired(central, acme, bad)["revision"] == revisions[bad] + 1
    report(central, bad, revisions[bad] + 1, ready)
    follow(central, acme, location, "COMPLETED")
    assert client.get(f"{NS}/{ns['id']}", headers=acme.headers).json()["nsState"] == (
        "INSTANTIATED"
    )
    assert client.post(f"{location}/retry", headers=acme.headers).status_code == 409


def test_rollback_gives_the_sites_back_what_they_ran_before(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    (site,) = add_sites(central, acme, "solo")
    ns = create_ns(central, acme, nsd)
    location = instantiate_on(central, acme, ns["id"], site)
    report(central, site, desired(central, acme, site)["revision"],
           [{"id": ns["id"], "state": "failed", "vnfs": []}])  # fmt: skip
    follow(central, acme, location, "FAILED_TEMP")
    assert client.post(f"{location}/rollback", headers=acme.headers).status_code == 202
    assert client.get(location, headers=acme.headers).json()["operationState"] == "ROLLING_BACK"
    assert desired(central, acme, site)["document"]["services"] == []
    report(central, site, desired(central, acme, site)["revision"], [])
    follow(central, acme, location, "ROLLED_BACK")
    instance = client.get(f"{NS}/{ns['id']}", headers=acme.headers).json()
    assert (instance["nsState"], instance["sites"]) == ("NOT_INSTANTIATED", [])
    assert client.delete(f"{NS}/{ns['id']}", headers=acme.headers).status_code == 204


def test_cancel_then_fail_and_delete_takes_the_service_off_the_sites(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    (site,) = add_sites(central, acme, "slow")
    ns = create_ns(central, acme, nsd)
    location = instantiate_on(central, acme, ns["id"], site)
    cancelled = client.post(f"{location}/cancel", json={"cancelMode": "FORCEFUL"},
                            headers=acme.headers)  # fmt: skip
    assert cancelled.status_code == 202, cancelled.text
    op = client.get(location, headers=acme.headers).json()
    assert (op["operationState"], op["error"]["title"]) == ("FAILED_TEMP", "cancelled")
    failed = client.post(f"{location}/fail", headers=acme.headers)
    assert failed.status_code == 200
    assert failed.json()["operationState"] == "FAILED"
    assert client.post(f"{location}/rollback", headers=acme.headers).status_code == 409
    assert len(desired(central, acme, site)["document"]["services"]) == 1
    assert client.delete(f"{NS}/{ns['id']}", headers=acme.headers).status_code == 204
    assert desired(central, acme, site)["document"]["services"] == []
    bad_mode = client.post(f"{location}/cancel", json={"cancelMode": "NOW"}, headers=acme.headers)
    assert bad_mode.status_code in (400, 404)


def settle_all(central: Central, caller: Caller, location: str, *sites: str) -> None:
    """Every site reports its desired revision applied; the operation completes."""
    for site in sites:
        document = desired(central, caller, site)
        entries = [{"id": e["id"], "state": "ready", "vnfs": []}
                   for e in document["document"]["services"]]  # fmt: skip
        report(central, site, document["revision"], entries)
    follow(central, caller, location, "COMPLETED")


def test_continue_waits_again_for_slow_sites(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    (site,) = add_sites(central, acme, "slow")
    ns = create_ns(central, acme, nsd)
    location = instantiate_on(central, acme, ns["id"], site)
    assert client.post(f"{location}/continue", headers=acme.headers).status_code == 409
    client.post(f"{location}/cancel", headers=acme.headers)
    revision = desired(central, acme, site)["revision"]
    assert client.post(f"{location}/continue", headers=acme.headers).status_code == 202
    assert desired(central, acme, site)["revision"] == revision  # nothing re-issued
    report(central, site, revision, [{"id": ns["id"], "state": "ready", "vnfs": []}])
    follow(central, acme, location, "COMPLETED")


def test_a_site_s_latest_counters_are_served(central: Central) -> None:
    acme = central.tenant("acme")
    (site,) = add_sites(central, acme, "counted")
    empty = central.client.get(f"/api/v1/sites/{site}/counters", headers=acme.headers).json()
    assert empty == {"siteId": site, "at": None, "services": {}, "policy": {}}
    scan = {"active": True, "matches": 1, "flagged": 1, "dropped": 40}
    for packets in (3, 7):
        body = {"services": {"s1": {"fw": {"rules": {"rule-0": {"packets": packets}}}}},
                "wan": {"policy": {"scan": scan}}}  # fmt: skip
        item = ReportItem(f"c-{packets}", "counters", datetime.now(UTC), body)
        with sessions(central).begin() as session:
            site_channel.record_reports(session, site, [item])
    latest = central.client.get(f"/api/v1/sites/{site}/counters", headers=acme.headers).json()
    assert latest["services"]["s1"]["fw"]["rules"]["rule-0"]["packets"] == 7
    assert latest["policy"] == {"scan": scan}  # the real-time policy's counters
    other = central.tenant("other")
    assert central.client.get(f"/api/v1/sites/{site}/counters",
                              headers=other.headers).status_code == 404  # fmt: skip
