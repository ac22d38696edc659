"""NS updates that change a running NS's chain, through the API (SQLite and PostgreSQL):
INSTANTIATE_VNF puts a VNF package's VNF into the chain of every site of the NS (where
chainPosition says, else at the WAN end), checked as instantiation checks it; REMOVE_VNF takes
VNFs out (never the last); the packages' usage state follows their last user; vnfInstance[]
shows the NS's VNFs by the ids these updates take; a rollback gives the previous chain back;
ADD_VNF is refused saying what to use instead."""

from __future__ import annotations

from typing import Any

import pytest

from tests.central.api.conftest import Caller, Central
from tests.central.api.sol005 import assert_schema
from tests.central.api.test_catalog import PKGS, onboard_nsd
from tests.central.api.test_nslcm import NS, create_ns, desired, follow, report
from tests.central.api.test_software_vnfs import (
    PARAMS,
    nsd_text,
    onboard_package,
    package_info,
)
from tests.tosca.softpkg import package, vnfd

CACHE = {"vnfdId": "example-cache", "vnfFlavourId": "default", "vnfInstanceName": "cache",
         "additionalParams": {"domain": "cache.example"}}  # fmt: skip


def cloud_sites(central: Central, caller: Caller, *names: str) -> list[str]:
    """Sites with room for 20 VNFs each (an on-premise site has 2)."""
    ids = []
    for name in names:
        made = central.client.post("/api/v1/sites", json={"name": name, "kind": "cloud"},
                                   headers=caller.headers)  # fmt: skip
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    central.bring_online(ids)
    return ids


def running_ns(central: Central, caller: Caller, *sites: str, name: str = "dns") -> str:
    """An NS of the dns-then-firewall NSD, instantiated on `sites` and COMPLETED."""
    ns: str = create_ns(central, caller, nsd_info(central), name)["id"]
    started = central.client.post(
        f"{NS}/{ns}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"sites": list(sites)},
              "additionalParamsForVnf": PARAMS},
        headers=caller.headers,
    )  # fmt: skip
    assert started.status_code == 202, started.text
    applied(central, caller, started.headers["Location"], sites, "COMPLETED")
    return ns


def nsd_info(central: Central) -> str:
    listed = central.client.get("/nsd/v1/ns_descriptors?nsdId=dns-nsd",
                                headers=central.admin.headers).json()  # fmt: skip
    if listed:
        return str(listed[0]["id"])
    return onboard_nsd(central, central.admin, nsd_text())


def applied(
    central: Central, caller: Caller, location: str, sites: Any, state: str, *, failed: str = ""
) -> dict[str, Any]:
    """Every site reports the revision it holds (the NS's service `failed` at that site)."""
    for site in sites:
        held = desired(central, caller, site)
        services = [{"id": e["id"], "state": "failed" if site == failed else "ready", "vnfs": []}
                    for e in held["document"]["services"]]  # fmt: skip
        report(central, site, held["revision"], services)
    return follow(central, caller, location, state)


def update(central: Central, caller: Caller, ns: str, body: dict[str, Any]) -> Any:
    return central.client.post(f"{NS}/{ns}/update", json=body, headers=caller.headers)


def chain(central: Central, caller: Caller, site: str) -> list[str]:
    (entry,) = desired(central, caller, site)["document"]["services"]
    return list(entry["chain"])


def vnf_instances(central: Central, caller: Caller, ns: str) -> dict[str, dict[str, Any]]:
    got = central.client.get(f"{NS}/{ns}", headers=caller.headers)
    assert got.status_code == 200, got.text
    assert_schema("NsInstance", got.json())
    return {v["id"]: v for v in got.json()["vnfInstance"]}


def usage(central: Central, package_id: str) -> str:
    return str(package_info(central, package_id)["usageState"])


@pytest.fixture
def packages(central: Central) -> dict[str, str]:
    """The NSD's dns package and a cache package no NSD references, by VNFD id."""
    nsd_info(central)
    dns, _ = onboard_package(central, package())
    cache, _ = onboard_package(central, package(vnfd(vnfd_id="example-cache")))
    return {"example-dns": dns, "example-cache": cache}


def test_a_package_s_vnf_joins_the_running_chain_and_leaves_it(
    central: Central, packages: dict[str, str]
) -> None:
    acme = central.tenant("acme")
    sites = cloud_sites(central, acme, "paris", "lyon")
    ns = running_ns(central, acme, *sites)
    before = {s: desired(central, acme, s)["revision"] for s in sites}
    vnfs = vnf_instances(central, acme, ns)
    assert list(vnfs) == ["dns", "firewall"]
    assert (vnfs["dns"]["vnfPkgId"], vnfs["dns"]["metadata"]) == (
        packages["example-dns"],
        {"function": "software", "vnfProfileId": "dns"},
    )
    assert vnfs["dns"]["vnfConfigurableProperties"] == {"domain": "lan.example", "port": "5353"}
    assert vnfs["firewall"]["metadata"]["function"] == "firewall"
    assert usage(central, packages["example-cache"]) == "NOT_IN_USE"

    added = update(central, acme, ns, {"updateType": "INSTANTIATE_VNF",
                                       "instantiateVnfData": [CACHE]})  # fmt: skip
    assert added.status_code == 202, added.text
    for site in sites:
        assert desired(central, acme, site)["revision"] == before[site] + 1
        assert chain(central, acme, site) == ["dns", "firewall", "cache"]  # the WAN end
        (entry,) = desired(central, acme, site)["document"]["services"]
        cache = next(v for v in entry["vnfs"] if v["name"] == "cache")
        assert cache["function"] == "software"
        assert (cache["config"]["vnfd_id"], cache["config"]["params"]) == (
            "example-cache", {"domain": "cache.example", "port": "53"})  # fmt: skip
    assert usage(central, packages["example-cache"]) == "IN_USE"
    vnfs = vnf_instances(central, acme, ns)
    assert list(vnfs) == ["dns", "firewall", "cache"]
    assert vnfs["cache"]["vnfPkgId"] == packages["example-cache"]
    assert vnfs["cache"]["vnfdId"] == "example-cache"
    assert vnfs["cache"]["instantiatedVnfInfo"]["flavourId"] == "default"
    assert "vnfProfileId" not in vnfs["cache"]["metadata"]
    op = applied(central, acme, added.headers["Location"], sites, "COMPLETED")
    assert op["operationParams"]["updateType"] == "INSTANTIATE_VNF"

    second = dict(CACHE, vnfInstanceName="cache2", chainPosition={"before": "firewall"})
    added = update(central, acme, ns, {"updateType": "INSTANTIATE_VNF",
                                       "instantiateVnfData": [second]})  # fmt: skip
    assert added.status_code == 202, added.text
    assert chain(central, acme, sites[0]) == ["dns", "cache2", "firewall", "cache"]
    applied(central, acme, added.headers["Location"], sites, "COMPLETED")

    port = [{"vnfInstanceId": "cache", "vnfConfigurableProperties": {"port": 5300}}]
    modified = update(central, acme, ns, {"updateType": "MODIFY_VNF_INFORMATION",
                                          "modifyVnfInfoData": port})  # fmt: skip
    assert modified.status_code == 202, modified.text
    assert vnf_instances(central, acme, ns)["cache"]["vnfConfigurableProperties"]["port"] == "5300"
    applied(central, acme, modified.headers["Location"], sites, "COMPLETED")

    removed = update(central, acme, ns, {"updateType": "REMOVE_VNF",
                                         "removeVnfInstanceId": ["cache"]})  # fmt: skip
    assert removed.status_code == 202, removed.text
    assert chain(central, acme, sites[1]) == ["dns", "cache2", "firewall"]
    assert usage(central, packages["example-cache"]) == "IN_USE"  # cache2 still runs it
    applied(central, acme, removed.headers["Location"], sites, "COMPLETED")
    assert usage(central, packages["example-cache"]) == "IN_USE"
    removed = update(central, acme, ns, {"updateType": "REMOVE_VNF",
                                         "removeVnfInstanceId": ["cache2", "dns"]})  # fmt: skip
    assert removed.status_code == 202, removed.text
    assert usage(central, packages["example-cache"]) == "IN_USE"  # until the sites applied it
    applied(central, acme, removed.headers["Location"], sites, "COMPLETED")
    assert chain(central, acme, sites[0]) == ["firewall"]
    assert list(vnf_instances(central, acme, ns)) == ["firewall"]
    assert usage(central, packages["example-cache"]) == "NOT_IN_USE"  # its last user went
    assert usage(central, packages["example-dns"]) == "IN_USE"  # the NSD still references it

    last = update(central, acme, ns, {"updateType": "REMOVE_VNF",
                                      "removeVnfInstanceId": ["firewall"]})  # fmt: skip
    assert last.status_code == 422, last.text
    assert last.json()["problems"][0]["where"] == "removeVnfInstanceId"
    assert "an NS runs at least one" in last.text


def test_rolling_back_restores_the_previous_chain_and_the_package_s_usage(
    central: Central, packages: dict[str, str]
) -> None:
    client, acme = central.client, central.tenant("acme")
    good, bad = cloud_sites(central, acme, "good", "bad")
    ns = running_ns(central, acme, good, bad)
    added = update(central, acme, ns, {"updateType": "INSTANTIATE_VNF",
                                       "instantiateVnfData": [dict(CACHE, chainPosition={
                                           "after": "dns"})]})  # fmt: skip
    assert added.status_code == 202, added.text
    assert chain(central, acme, good) == ["dns", "cache", "firewall"]
    location = added.headers["Location"]
    applied(central, acme, location, [good, bad], "FAILED_TEMP", failed=bad)
    assert client.post(f"{location}/rollback", headers=acme.headers).status_code == 202
    assert chain(central, acme, good) == chain(central, acme, bad) == ["dns", "firewall"]
    assert usage(central, packages["example-cache"]) == "IN_USE"  # until the sites applied it
    applied(central, acme, location, [good, bad], "ROLLED_BACK")
    assert usage(central, packages["example-cache"]) == "NOT_IN_USE"
    assert list(vnf_instances(central, acme, ns)) == ["dns", "firewall"]

    removed = update(central, acme, ns, {"updateType": "REMOVE_VNF",
                                         "removeVnfInstanceId": ["dns"]})  # fmt: skip
    assert removed.status_code == 202, removed.text
    location = removed.headers["Location"]
    applied(central, acme, location, [good, bad], "FAILED_TEMP", failed=good)
    assert client.post(f"{location}/rollback", headers=acme.headers).status_code == 202
    assert chain(central, acme, bad) == ["dns", "firewall"]
    (entry,) = desired(central, acme, bad)["document"]["services"]
    assert next(v for v in entry["vnfs"] if v["name"] == "dns")["config"]["params"] == {
        "domain": "lan.example", "port": "5353"}  # fmt: skip
    applied(central, acme, location, [good, bad], "ROLLED_BACK")
    assert usage(central, packages["example-dns"]) == "IN_USE"


def test_a_package_is_in_use_until_the_last_ns_running_its_vnf_goes(
    central: Central, packages: dict[str, str]
) -> None:
    client, acme = central.client, central.tenant("acme")
    first_site, second_site = cloud_sites(central, acme, "one", "two")
    first = running_ns(central, acme, first_site, name="first")
    second = running_ns(central, acme, second_site, name="second")
    for ns, site in ((first, first_site), (second, second_site)):
        added = update(central, acme, ns, {"updateType": "INSTANTIATE_VNF",
                                           "instantiateVnfData": [CACHE]})  # fmt: skip
        assert added.status_code == 202, added.text
        applied(central, acme, added.headers["Location"], [site], "COMPLETED")
    removed = update(central, acme, first, {"updateType": "REMOVE_VNF",
                                            "removeVnfInstanceId": ["cache"]})  # fmt: skip
    applied(central, acme, removed.headers["Location"], [first_site], "COMPLETED")
    assert usage(central, packages["example-cache"]) == "IN_USE"  # the second NS runs it
    disabled = client.patch(f"{PKGS}/{packages['example-cache']}", json={
        "operationalState": "DISABLED"}, headers=central.admin.headers)  # fmt: skip
    assert disabled.status_code == 200, disabled.text
    refused = client.delete(f"{PKGS}/{packages['example-cache']}", headers=central.admin.headers)
    assert refused.status_code == 409, refused.text
    ended = client.post(f"{NS}/{second}/terminate", json={}, headers=acme.headers)
    assert ended.status_code == 202, ended.text
    applied(central, acme, ended.headers["Location"], [second_site], "COMPLETED")
    assert usage(central, packages["example-cache"]) == "NOT_IN_USE"
    deleted = client.delete(f"{PKGS}/{packages['example-cache']}", headers=central.admin.headers)
    assert deleted.status_code == 204, deleted.text


def test_a_new_nsd_version_gives_its_own_chain_and_releases_added_vnfs(
    central: Central, packages: dict[str, str]
) -> None:
    acme = central.tenant("acme")
    onboard_nsd(central, central.admin, nsd_text(nsd_id="dns-nsd-2", action="reject"))
    (site,) = cloud_sites(central, acme, "branch")
    ns = running_ns(central, acme, site)
    added = update(central, acme, ns, {"updateType": "INSTANTIATE_VNF",
                                       "instantiateVnfData": [CACHE]})  # fmt: skip
    applied(central, acme, added.headers["Location"], [site], "COMPLETED")
    version = {"newNsdId": "dns-nsd-2"}
    moved = update(central, acme, ns, {"updateType": "ASSOC_NEW_NSD_VERSION",
                                       "assocNewNsdVersionData": version})  # fmt: skip
    assert moved.status_code == 202, moved.text
    assert chain(central, acme, site) == ["dns", "firewall"]
    applied(central, acme, moved.headers["Location"], [site], "COMPLETED")
    assert usage(central, packages["example-cache"]) == "NOT_IN_USE"
    got = central.client.get(f"{NS}/{ns}", headers=acme.headers).json()
    assert got["nsdId"] == "dns-nsd-2"
    assert list(vnf_instances(central, acme, ns)) == ["dns", "firewall"]


def test_lists_show_vnf_instances_only_when_asked(
    central: Central, packages: dict[str, str]
) -> None:
    acme = central.tenant("acme")
    (site,) = cloud_sites(central, acme, "branch")
    ns = running_ns(central, acme, site)
    listed = central.client.get(NS, headers=acme.headers).json()
    assert [n["id"] for n in listed] == [ns]
    assert "vnfInstance" not in listed[0]
    for query in ("all_fields", "fields=vnfInstance"):
        listed = central.client.get(f"{NS}?{query}", headers=acme.headers).json()
        assert [v["id"] for v in listed[0]["vnfInstance"]] == ["dns", "firewall"], query
    for package_id, found in ((packages["example-dns"], [ns]), (packages["example-cache"], [])):
        query = f"filter=(eq,vnfInstance/vnfPkgId,{package_id})"
        listed = central.client.get(f"{NS}?{query}", headers=acme.headers).json()
        assert [n["id"] for n in listed] == found, query


@pytest.mark.parametrize(
    ("body", "status", "where", "reason"),
    [
        ({"updateType": "ADD_VNF", "addVnfInstance": [{"vnfInstanceId": "x",
          "vnfProfileId": "dns"}]}, 422, "updateType", "'ADD_VNF' adds existing VNF instances"),
        ({"updateType": "INSTANTIATE_VNF"}, 400, "instantiateVnfData", "empty"),
        ({"updateType": "REMOVE_VNF"}, 400, "removeVnfInstanceId", "empty"),
        ({"updateType": "INSTANTIATE_VNF", "instantiateVnfData": [{"vnfFlavourId": "default"}]},
         400, "instantiateVnfData[0].vnfdId", "missing"),
        ({"updateType": "INSTANTIATE_VNF", "instantiateVnfData": [
            dict(CACHE, chainPosition={"left": "dns"})]},
         400, "instantiateVnfData[0].chainPosition", "expected {before"),
        ({"updateType": "INSTANTIATE_VNF", "instantiateVnfData": [dict(CACHE, vnfdId="nope")]},
         422, "instantiateVnfData[0].vnfdId", "VNFD 'nope' is in no onboarded VNF package"),
        ({"updateType": "INSTANTIATE_VNF", "instantiateVnfData": [
            dict(CACHE, vnfFlavourId="gold")]},
         422, "instantiateVnfData[0].vnfFlavourId", "'gold' is no flavour of VNFD"),
        ({"updateType": "INSTANTIATE_VNF", "instantiateVnfData": [
            dict(CACHE, additionalParams={"domain": "x", "port": "fifty"})]},
         422, "instantiateVnfData[0].additionalParams.port", "'fifty' is not an integer"),
        ({"updateType": "INSTANTIATE_VNF", "instantiateVnfData": [
            dict(CACHE, additionalParams={})]},
         422, "instantiateVnfData[0].additionalParams.domain", "missing: the VNFD requires it"),
        ({"updateType": "INSTANTIATE_VNF", "instantiateVnfData": [
            dict(CACHE, vnfInstanceName="firewall")]},
         422, "instantiateVnfData[0].vnfInstanceName", "'firewall' is a VNF of the NS already"),
        ({"updateType": "INSTANTIATE_VNF", "instantiateVnfData": [
            dict(CACHE, vnfInstanceName="a b")]},
         422, "instantiateVnfData[0].vnfInstanceName", "'a b': "),
        ({"updateType": "INSTANTIATE_VNF", "instantiateVnfData": [
            dict(CACHE, chainPosition={"after": "nat"})]},
         422, "instantiateVnfData[0].chainPosition.after", "'nat' is not in the NS's chain"),
        ({"updateType": "INSTANTIATE_VNF", "instantiateVnfData": [
            dict(CACHE, vnfdId="example-vm")]},
         422, "instantiateVnfData[0].vnfdId", "a virtual machine disk image"),
        ({"updateType": "INSTANTIATE_VNF", "instantiateVnfData": [
            dict(CACHE, vnfdId="example-off")]},
         422, "instantiateVnfData[0].vnfdId", "is DISABLED: enable it"),
        ({"updateType": "REMOVE_VNF", "removeVnfInstanceId": ["dns", "nat"]},
         422, "removeVnfInstanceId[1]", "'nat' is no VNF instance of the NS"),
        ({"updateType": "REMOVE_VNF", "removeVnfInstanceId": ["dns", "dns"]},
         400, "removeVnfInstanceId[1]", "'dns' is named by removeVnfInstanceId[0]"),
    ],
)  # fmt: skip
def test_a_chain_update_that_cannot_be_honoured_names_the_field_and_writes_nothing(
    central: Central,
    packages: dict[str, str],
    body: dict[str, Any],
    status: int,
    where: str,
    reason: str,
) -> None:
    onboard_package(central, package(vnfd(vnfd_id="example-vm", disk="qcow2")))
    off, _ = onboard_package(central, package(vnfd(vnfd_id="example-off")))
    disabled = central.client.patch(f"{PKGS}/{off}", json={"operationalState": "DISABLED"},
                                    headers=central.admin.headers)  # fmt: skip
    assert disabled.status_code == 200, disabled.text
    acme = central.tenant("acme")
    (site,) = cloud_sites(central, acme, "branch")
    ns = running_ns(central, acme, site)
    before = desired(central, acme, site)["revision"]
    refused = update(central, acme, ns, body)
    assert refused.status_code == status, refused.text
    problems = refused.json()["problems"]
    assert any(p["where"] == where and reason in p["message"] for p in problems), problems
    assert desired(central, acme, site)["revision"] == before
    assert usage(central, packages["example-cache"]) == "NOT_IN_USE"


def test_a_vnf_that_does_not_fit_on_a_site_is_refused_naming_the_site(
    central: Central, packages: dict[str, str]
) -> None:
    acme = central.tenant("acme")
    made = central.client.post("/api/v1/sites", json={"name": "small", "kind": "on-premise"},
                               headers=acme.headers)  # fmt: skip
    site = made.json()["id"]
    central.bring_online([site])
    ns = running_ns(central, acme, site)
    refused = update(central, acme, ns, {"updateType": "INSTANTIATE_VNF",
                                         "instantiateVnfData": [CACHE]})  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert refused.json()["problems"] == [{
        "where": "instantiateVnfData",
        "message": "site small: 2 of 2 VNF slots free; the NS would need 3"}]  # fmt: skip
    assert usage(central, packages["example-cache"]) == "NOT_IN_USE"


def test_a_site_added_later_must_have_room_for_the_vnfs_the_ns_runs_now(
    central: Central, packages: dict[str, str]
) -> None:
    acme = central.tenant("acme")
    (roomy,) = cloud_sites(central, acme, "roomy")
    made = central.client.post("/api/v1/sites", json={"name": "small", "kind": "on-premise"},
                               headers=acme.headers)  # fmt: skip
    small = made.json()["id"]
    central.bring_online([small])
    ns = running_ns(central, acme, roomy)
    added = update(central, acme, ns, {"updateType": "INSTANTIATE_VNF",
                                       "instantiateVnfData": [CACHE]})  # fmt: skip
    applied(central, acme, added.headers["Location"], [roomy], "COMPLETED")
    refused = update(central, acme, ns, {"updateType": "CHANGE_SITES",
                                         "changeSitesData": {"add": ["small"]}})  # fmt: skip
    assert refused.status_code == 400, refused.text
    assert refused.json()["problems"] == [
        {"where": "changeSitesData.add", "message": "small: 2 of 2 VNF slots free; the NS needs 3"}
    ]
    assert desired(central, acme, small)["revision"] == 0


def test_a_removal_given_up_as_failed_keeps_what_the_sites_were_told(
    central: Central, packages: dict[str, str]
) -> None:
    client, acme = central.client, central.tenant("acme")
    (site,) = cloud_sites(central, acme, "branch")
    ns = running_ns(central, acme, site)
    added = update(central, acme, ns, {"updateType": "INSTANTIATE_VNF",
                                       "instantiateVnfData": [CACHE]})  # fmt: skip
    applied(central, acme, added.headers["Location"], [site], "COMPLETED")
    removed = update(central, acme, ns, {"updateType": "REMOVE_VNF",
                                         "removeVnfInstanceId": ["cache"]})  # fmt: skip
    location = removed.headers["Location"]
    applied(central, acme, location, [site], "FAILED_TEMP", failed=site)
    assert usage(central, packages["example-cache"]) == "IN_USE"
    failed = client.post(f"{location}/fail", headers=acme.headers)
    assert failed.status_code == 200, failed.text
    assert chain(central, acme, site) == ["dns", "firewall"]
    assert usage(central, packages["example-cache"]) == "NOT_IN_USE"


def test_deleting_an_nsd_keeps_a_package_in_use_that_an_ns_runs_as_an_added_vnf(
    central: Central, packages: dict[str, str]
) -> None:
    """The cache package is linked to an NSD (an NS was instantiated from it) and runs in
    another NS as an added VNF: deleting that NSD must not call the package unused."""
    client, acme = central.client, central.tenant("acme")
    first_site, second_site = cloud_sites(central, acme, "one", "two")
    cache_nsd = onboard_nsd(central, central.admin, nsd_text("example-cache", "cache-nsd"))
    ns: str = create_ns(central, acme, cache_nsd, "cached")["id"]
    started = client.post(
        f"{NS}/{ns}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"sites": [first_site]},
              "additionalParamsForVnf": PARAMS},
        headers=acme.headers,
    )  # fmt: skip
    assert started.status_code == 202, started.text
    applied(central, acme, started.headers["Location"], [first_site], "COMPLETED")
    ended = client.post(f"{NS}/{ns}/terminate", json={}, headers=acme.headers)
    applied(central, acme, ended.headers["Location"], [first_site], "COMPLETED")
    assert client.delete(f"{NS}/{ns}", headers=acme.headers).status_code == 204

    running = running_ns(central, acme, second_site)
    added = update(central, acme, running, {"updateType": "INSTANTIATE_VNF",
                                            "instantiateVnfData": [CACHE]})  # fmt: skip
    applied(central, acme, added.headers["Location"], [second_site], "COMPLETED")
    nsds = "/nsd/v1/ns_descriptors"
    disabled = client.patch(f"{nsds}/{cache_nsd}", json={"nsdOperationalState": "DISABLED"},
                            headers=central.admin.headers)  # fmt: skip
    assert disabled.status_code == 200, disabled.text
    deleted = client.delete(f"{nsds}/{cache_nsd}", headers=central.admin.headers)
    assert deleted.status_code == 204, deleted.text
    assert usage(central, packages["example-cache"]) == "IN_USE"
