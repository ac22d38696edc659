"""SOL005 SCALE_NS over the API: an NS scaled out and in by sites along its NSD's scaling
aspect, and a failed scale-out rolled back or given up without leaving a site behind."""

from __future__ import annotations

from typing import Any, NamedTuple

from tests.central.api.conftest import Caller, Central
from tests.central.api.sol005 import assert_schema
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_nslcm import (
    FLAVOUR,
    NS,
    add_sites,
    assert_schema_without_params,
    create_ns,
    desired,
    follow,
    instantiate_on,
    report,
    settle_all,
)


def test_scale_out_and_in_by_sites_along_an_ns_scaling_aspect(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    names = ("s1", "s2", "s3", "s4")
    for name in names:
        made = client.post("/api/v1/sites", json={"name": name, "kind": "on-premise",
                           "labels": {"region": "eu"}}, headers=acme.headers)  # fmt: skip
        assert made.status_code == 201, made.text
    central.bring_online()
    ids = {s["name"]: s["id"] for s in client.get("/api/v1/sites", headers=acme.headers).json()}
    ns = create_ns(central, acme, nsd)
    href = f"{NS}/{ns['id']}"
    started = client.post(f"{href}/instantiate", json={"nsFlavourId": FLAVOUR,
        "additionalParamsForNs": {"placement": {"labels": "region=eu", "count": 1}}},
        headers=acme.headers)  # fmt: skip
    assert started.status_code == 202, started.text
    settle_all(central, acme, started.headers["Location"], *ids.values())
    instance = client.get(href, headers=acme.headers).json()
    assert instance["nsScaleStatus"] == [{"nsScalingAspectId": "sites", "nsScaleLevelId": "0"}]
    (base,) = instance["sites"]

    def scale(body: dict[str, Any]) -> str:
        answer = client.post(f"{href}/scale", json=body, headers=acme.headers)
        assert answer.status_code == 202, answer.text
        location: str = answer.headers["Location"]
        return location

    out = scale({"scaleType": "SCALE_NS", "scaleNsData": {"scaleNsByStepsData": {
        "scalingDirection": "SCALE_OUT", "aspectId": "sites", "numberOfSteps": 2}}})  # fmt: skip
    op = client.get(out, headers=acme.headers).json()
    assert (op["lcmOperationType"], op["sitesTotal"]) == ("SCALE", 2)
    assert_schema_without_params(op)
    settle_all(central, acme, out, *ids.values())
    instance = client.get(href, headers=acme.headers).json()
    assert instance["nsScaleStatus"][0]["nsScaleLevelId"] == "2"
    assert len(instance["sites"]) == 3
    assert base in instance["sites"]
    assert_schema("NsInstance", instance)
    added = [s for s in instance["sites"] if s != base]
    for site in added:  # the same service as the first site, with this site's tenant
        (entry,) = desired(central, acme, site)["document"]["services"]
        assert (entry["id"], entry["tenant"]) == (ns["id"], acme.tenant_id)

    down = scale({"scaleType": "SCALE_NS", "scaleNsData": {"scaleNsByStepsData": {
        "scalingDirection": "SCALE_IN", "aspectId": "sites"}}})  # fmt: skip
    last = client.get(down, headers=acme.headers).json()
    assert last["sitesTotal"] == 1
    settle_all(central, acme, down, *ids.values())
    instance = client.get(href, headers=acme.headers).json()
    assert instance["nsScaleStatus"][0]["nsScaleLevelId"] == "1"
    assert sorted(instance["sites"]) == sorted([base, added[0]])  # the last one added went
    assert desired(central, acme, added[1])["document"]["services"] == []

    named = scale({"scaleType": "SCALE_NS", "scaleNsData": {
        "scaleNsToLevelData": {"nsScaleInfo": [{"nsScalingAspectId": "sites",
                                                "nsScaleLevelId": "2"}]},
        "additionalParamsForNs": {"sites": ["s4"]}}})  # fmt: skip
    settle_all(central, acme, named, *ids.values())
    assert ids["s4"] in client.get(href, headers=acme.headers).json()["sites"]

    wrong = [
        ({"scaleType": "SCALE_VNF"}, 400, "SCALE_VNF needs a non-empty array"),
        ({"scaleType": "SCALE_ALL"}, 422, "or a VNF at its sites (SCALE_VNF)"),
        ({}, 400, "scaleType"),
        ({"scaleType": "SCALE_NS"}, 400, "give exactly one of"),
        ({"scaleType": "SCALE_NS", "scaleNsData": {"scaleNsByStepsData": {
            "scalingDirection": "UP", "aspectId": "sites", "numberOfSteps": 0}}}, 400,
         "numberOfSteps"),
        ({"scaleType": "SCALE_NS", "scaleNsData": {"scaleNsByStepsData": {
            "scalingDirection": "SCALE_OUT", "aspectId": "cpu"}}}, 400,
         "'cpu': the NSD's aspects are sites"),
        ({"scaleType": "SCALE_NS", "scaleNsData": {"scaleNsToLevelData": {"nsScaleInfo": [
            {"nsScalingAspectId": "sites", "nsScaleLevelId": "9"}]}}}, 400, "outside 0..8"),
        ({"scaleType": "SCALE_NS", "scaleNsData": {"scaleNsToLevelData": {"nsScaleInfo": [
            {"nsScalingAspectId": "sites", "nsScaleLevelId": "2"}]}}}, 400, "nothing to scale"),
        ({"scaleType": "SCALE_NS", "scaleNsData": {"scaleNsByStepsData": {
            "scalingDirection": "SCALE_OUT", "aspectId": "sites", "numberOfSteps": 2}}}, 400,
         "instantiation's additionalParamsForNs.placement\",\"message\":\"only 1 site(s) meet"),
        ({"scaleType": "SCALE_NS", "scaleNsData": {"scaleNsByStepsData": {
            "scalingDirection": "SCALE_OUT", "aspectId": "sites"},
            "additionalParamsForNs": {"sites": ["s2", "s3"]}}}, 400, "names 2 sites"),
    ]  # fmt: skip
    for body, status, needle in wrong:
        answer = client.post(f"{href}/scale", json=body, headers=acme.headers)
        assert answer.status_code == status, (body, answer.text)
        assert needle in answer.text, (needle, answer.text)
    stranger = central.tenant("globex")
    assert client.post(f"{href}/scale", json={"scaleType": "SCALE_NS"},
                       headers=stranger.headers).status_code == 404  # fmt: skip


class FailedScaleOut(NamedTuple):
    ns_id: str
    first: str  # where the NS was instantiated
    second: str  # the site the scale-out failed on
    location: str  # the operation, FAILED_TEMP


def failed_scale_out(central: Central, caller: Caller) -> FailedScaleOut:
    """An NS on one site, scaled out by one step onto a second site that reports it failed."""
    nsd = onboard_nsd(central, central.admin)
    first, second = add_sites(central, caller, "first", "second")
    ns = create_ns(central, caller, nsd)
    settle_all(central, caller, instantiate_on(central, caller, ns["id"], first), first)
    answer = central.client.post(f"{NS}/{ns['id']}/scale", json={
        "scaleType": "SCALE_NS", "scaleNsData": {
            "scaleNsByStepsData": {"scalingDirection": "SCALE_OUT", "aspectId": "sites"},
            "additionalParamsForNs": {"sites": ["second"]}}}, headers=caller.headers)  # fmt: skip
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    revision = desired(central, caller, second)["revision"]
    report(central, second, revision, [{"id": ns["id"], "state": "failed", "vnfs": []}])
    failed = follow(central, caller, location, "FAILED_TEMP")
    assert "site " + second in failed["error"]["detail"]
    return FailedScaleOut(ns["id"], first, second, location)


def test_a_failed_scale_out_rolls_back_off_the_new_sites(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    ns_id, first, second, location = failed_scale_out(central, acme)
    assert client.post(f"{location}/rollback", headers=acme.headers).status_code == 202
    assert desired(central, acme, second)["document"]["services"] == []
    report(central, second, desired(central, acme, second)["revision"], [])
    follow(central, acme, location, "ROLLED_BACK")
    instance = client.get(f"{NS}/{ns_id}", headers=acme.headers).json()
    assert instance["sites"] == [first]
    assert instance["nsScaleStatus"][0]["nsScaleLevelId"] == "0"


def test_a_failed_scale_out_given_up_leaves_no_site_behind(central: Central) -> None:
    client, acme = central.client, central.tenant("acme")
    ns_id, first, second, location = failed_scale_out(central, acme)
    failed = client.post(f"{location}/fail", headers=acme.headers)
    assert failed.status_code == 200, failed.text
    assert failed.json()["operationState"] == "FAILED"
    instance = client.get(f"{NS}/{ns_id}", headers=acme.headers).json()
    assert sorted(instance["sites"]) == sorted([first, second])  # where it is, not where it was
    ended = client.post(f"{NS}/{ns_id}/terminate", json={}, headers=acme.headers)
    assert ended.status_code == 202, ended.text
    for site in (first, second):
        assert desired(central, acme, site)["document"]["services"] == []
